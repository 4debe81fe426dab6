"""The outcome of one theorem's search (BurnQED's SearchResult, with the failure reasons of
docs/search.md#failure-reasons)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from prover.engine.stats import SearchStats, Usage
from prover.engine.tree import SearchTree


class FailureReason(enum.StrEnum):
    PROVED = "proved"
    TIMEOUT = "timeout"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MAX_ROUNDS = "max_rounds"
    FRONTIER_EXHAUSTED = "frontier_exhausted"
    CANCELLED = "cancelled"
    ERROR = "error"


class Verdict(enum.StrEnum):
    """What a finished search means for its theorem: the one mapping from failure reasons that the service's
    result rows, the command line's summary and the evaluations all use."""

    PROVED = "proved"
    FAILED = "failed"  # searched and not proved: timeout, budgets, exhausted frontier
    ERROR = "error"  # the search could not run (verifier or policy broke)
    CANCELLED = "cancelled"


def verdict_of(failure_reason: str) -> Verdict:
    reason = FailureReason(failure_reason)
    if reason is FailureReason.PROVED:
        return Verdict.PROVED
    return {FailureReason.ERROR: Verdict.ERROR, FailureReason.CANCELLED: Verdict.CANCELLED}.get(reason, Verdict.FAILED)


@dataclass
class SearchResult:
    theorem_name: str
    statement: str
    strategy: str
    failure_reason: FailureReason
    proof_tactics: list[str]
    proof_text: str
    wall_time_ms: float
    stats: SearchStats
    tree: SearchTree = field(repr=False)
    usage: Usage | None = None  # compute spent when the proof was found; None if unproved
    terminal_node_id: int | None = None
    error: str = ""
    q_values: dict[int, tuple[float, int]] = field(default_factory=dict, repr=False)  # node -> (q, visits)

    @property
    def proved(self) -> bool:
        return self.failure_reason is FailureReason.PROVED

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.failure_reason)

    @property
    def nodes_expanded(self) -> int:
        return self.stats.nodes_expanded

    total_states: int = 0  # arena size; kept here so the tree can be dropped (see `drop_tree`)
    max_depth_reached: int = 0

    def __post_init__(self) -> None:
        if len(self.tree):
            self.total_states = len(self.tree)
            self.max_depth_reached = max(n.depth for n in self.tree)

    def drop_tree(self) -> None:
        """Free the DAG once its trajectories are written: a long run keeps only the summaries."""
        self.tree = SearchTree()
        self.q_values = {}

    def to_dict(self, *, with_latencies: bool = False) -> dict[str, Any]:
        return {
            "theorem_name": self.theorem_name,
            "statement": self.statement,
            "strategy": self.strategy,
            "proved": self.proved,
            "failure_reason": self.failure_reason.value,
            "error": self.error,
            "proof_tactics": list(self.proof_tactics),
            "proof_text": self.proof_text,
            "terminal_node_id": self.terminal_node_id,
            "nodes_expanded": self.nodes_expanded,
            "total_states": self.total_states,
            "max_depth_reached": self.max_depth_reached,
            "wall_time_ms": self.wall_time_ms,
            "usage_at_proof": self.usage.to_dict() if self.usage else None,
            "stats": self.stats.to_dict(with_latencies=with_latencies),
        }
