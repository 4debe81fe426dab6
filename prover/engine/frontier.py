"""A max-priority frontier with lazy deletion: stale entries are skipped when popped, never searched for."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class Frontier:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int]] = []
        self._tiebreak = itertools.count()
        self.peak_size = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, node_id: int, priority: float) -> None:
        # Ties go to the earlier push, so the search is deterministic for a deterministic policy.
        heapq.heappush(self._heap, (-priority, next(self._tiebreak), node_id))
        self.peak_size = max(self.peak_size, len(self._heap))

    def pop(self, is_live: Callable[[int], bool]) -> int | None:
        """The best node for which `is_live(node)` holds, dropping dead entries on the way; None if none."""
        while self._heap:
            _, _, node_id = heapq.heappop(self._heap)
            if is_live(node_id):
                return node_id
        return None
