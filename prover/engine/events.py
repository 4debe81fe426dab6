"""Typed search events. The engine hands every event to one callback and knows nothing about who listens.

Every event carries the theorem name, a per-search sequence number (so a listener can detect gaps) and
the milliseconds since the search started. `to_dict()` is JSON-safe: no NaN/inf, no tuples, no enums.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class SearchEvent:
    type: ClassVar[str] = "event"
    theorem_name: str
    seq: int
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            out[f.name] = _json_safe(getattr(self, f.name))
        return out


@dataclass(frozen=True, kw_only=True)
class SearchStarted(SearchEvent):
    type: ClassVar[str] = "search_started"
    statement: str
    strategy: str
    config: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class NodeAdded(SearchEvent):
    """A node entered the tree: a new state, a finished proof (terminal) or a tactic Lean rejected."""

    type: ClassVar[str] = "node_added"
    node_id: int
    parent_id: int | None
    kind: str  # root | state | terminal | failed_tactic
    tactic: str
    goal_text: str
    num_goals: int
    depth: int
    log_prob: float
    energy: float | None
    status: str
    expansion_order: int | None
    lean_ms: float
    error: str
    source: str  # root | policy | replay | probe


@dataclass(frozen=True, kw_only=True)
class EdgeAdded(SearchEvent):
    """A tactic reached a state already in the tree: the DAG gains an edge, not a node."""

    type: ClassVar[str] = "edge_added"
    parent_id: int
    node_id: int
    tactic: str
    lean_ms: float


@dataclass(frozen=True, kw_only=True)
class NodeExpanded(SearchEvent):
    type: ClassVar[str] = "node_expanded"
    node_id: int
    expansion_order: int
    depth: int
    round: int
    candidates: int
    children_added: int
    generate_ms: float
    lean_ms: float


@dataclass(frozen=True, kw_only=True)
class NodesScored(SearchEvent):
    """One batch of EBM scores: `scores` is [{node_id, energy, ebm_score}], energy None when scoring failed."""

    type: ClassVar[str] = "nodes_scored"
    scores: list[dict[str, Any]]
    ebm_ms: float
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class NodeStatusChanged(SearchEvent):
    """Statuses propagated up the DAG: `changes` is [{node_id, status}]."""

    type: ClassVar[str] = "node_status_changed"
    changes: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ProofFound(SearchEvent):
    """A terminal was reached. `verified` says whether the whole-proof re-check accepted it."""

    type: ClassVar[str] = "proof_found"
    node_id: int
    tactics: list[str]
    proof_text: str
    verified: bool
    check_message: str
    check_ms: float


@dataclass(frozen=True, kw_only=True)
class MetricLogged(SearchEvent):
    type: ClassVar[str] = "metric"
    name: str
    value: float
    step: int


@dataclass(frozen=True, kw_only=True)
class TheoremFinished(SearchEvent):
    """The search ended; `result` is `SearchResult.to_dict()` (reason, proof, stats, usage)."""

    type: ClassVar[str] = "theorem_finished"
    proved: bool
    failure_reason: str
    result: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[SearchEvent], None]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
