"""What one search measured (BurnQED's SearchStats, docs/search.md#statistics), plus tokens and the re-check outcome."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SearchStats:
    nodes_expanded: int = 0
    nodes_pruned: int = 0
    nodes_terminal: int = 0
    peak_frontier_size: int = 0
    rounds: int = 0
    tactic_attempts: int = 0
    tactic_failures: int = 0
    probe_attempts: int = 0
    probe_successes: int = 0
    loops_detected: int = 0
    states_merged: int = 0
    goal_unchanged_pruned: int = 0
    have_goal_increase_pruned: int = 0
    have_chain_pruned: int = 0
    depth_capped: int = 0
    sorry_rejected: int = 0
    trie_cache_hits: int = 0
    completions: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ebm_score_calls: int = 0
    ebm_scored_states: int = 0
    ebm_skipped_by_depth: int = 0
    ebm_failures: int = 0
    proofs_rejected_by_recheck: int = 0
    verifier_restarts: int = 0
    states_rebuilt: int = 0
    lean_ms: float = 0.0
    generate_ms: float = 0.0
    ebm_ms: float = 0.0
    check_ms: float = 0.0
    lean_latencies_us: list[int] = field(default_factory=list)
    generate_latencies_us: list[int] = field(default_factory=list)
    ebm_latencies_us: list[int] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self, *, with_latencies: bool = True) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if not with_latencies:
            for name in ("lean_latencies_us", "generate_latencies_us", "ebm_latencies_us"):
                out.pop(name)
        out["total_tokens"] = self.total_tokens
        return out


@dataclass(frozen=True)
class Usage:
    """Compute spent so far; recorded at the moment a proof is found, so smaller budgets can be read off."""

    rounds: int
    nodes_expanded: int
    completions: int
    completion_tokens: int
    total_tokens: int
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
