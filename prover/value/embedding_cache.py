"""A bounded least-recently-used map from embedded text to its vector.

A search revisits the same states (siblings that converge, the theorem's goal on every round), and an
/encode round trip costs far more than a dict lookup. The bound keeps a long eval from growing without
limit: at 4096 float32 per vector, 20,000 entries hold about 330 MB.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0


class EmbeddingCache:
    """LRU cache of text -> 1-D embedding tensor with a maximum number of entries."""

    def __init__(self, max_entries: int = 20_000) -> None:
        if not isinstance(max_entries, int) or max_entries < 0:
            raise ValueError(f"max_entries must be an int >= 0 (0 disables caching), got {max_entries!r}")
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._entries: OrderedDict[str, torch.Tensor] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, text: str) -> bool:
        return text in self._entries

    def get(self, text: str) -> torch.Tensor | None:
        vector = self._entries.get(text)
        if vector is None:
            self.stats.misses += 1
            return None
        self._entries.move_to_end(text)
        self.stats.hits += 1
        return vector

    def put(self, text: str, vector: torch.Tensor) -> None:
        if self.max_entries == 0:
            return
        self._entries[text] = vector
        self._entries.move_to_end(text)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.stats.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
