"""The replay trie of hybrid search (docs/search.md#replay-trie): (parent node, normalised tactic) -> child or failure.

Identical prefixes of many whole-proof completions replay from here without Lean. It also keeps per-node
visit and success counts for the PUCT frontier and the set of nodes whose counts changed in a round.
"""

from __future__ import annotations

from dataclasses import dataclass

FAILED = -1


def normalise_tactic(tactic: str) -> str:
    return " ".join(tactic.split())


@dataclass(slots=True)
class NodeCounts:
    visits: int = 0
    successes: int = 0

    @property
    def q_value(self) -> float:
        return self.successes / self.visits if self.visits else 0.0


class ReplayCache:
    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], int] = {}
        self._counts: dict[int, NodeCounts] = {}
        self._updated: set[int] = set()
        self.hits = 0

    def lookup(self, parent_id: int, tactic: str) -> int | None:
        """The cached child id, FAILED, or None on a miss. A hit is counted."""
        found = self._entries.get((parent_id, normalise_tactic(tactic)))
        if found is not None:
            self.hits += 1
        return found

    def record_success(self, parent_id: int, tactic: str, child_id: int) -> None:
        self._entries[(parent_id, normalise_tactic(tactic))] = child_id

    def record_failure(self, parent_id: int, tactic: str) -> None:
        self._entries[(parent_id, normalise_tactic(tactic))] = FAILED

    def counts(self, node_id: int) -> NodeCounts:
        return self._counts.get(node_id) or NodeCounts()

    def q_and_visits(self) -> dict[int, tuple[float, int]]:
        return {node_id: (c.q_value, c.visits) for node_id, c in self._counts.items()}

    def record_visit(self, node_id: int) -> None:
        self._counts.setdefault(node_id, NodeCounts()).visits += 1
        self._updated.add(node_id)

    def record_proof_success(self, path: list[int]) -> None:
        for node_id in path:
            self._counts.setdefault(node_id, NodeCounts()).successes += 1
            self._updated.add(node_id)

    def drain_updated_below(self, cutoff: int) -> list[int]:
        """The updated node ids < cutoff, removed from the set; ids >= cutoff (this round's new nodes, pushed
        on their own) stay for a later round (docs/search.md#replay-trie)."""
        below = sorted(i for i in self._updated if i < cutoff)
        self._updated.difference_update(below)
        return below
