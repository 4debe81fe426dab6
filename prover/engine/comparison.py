"""Two sets of search results side by side, at equal compute: the one rule that the command line, the API and
the compare page all apply (docs/comparison.md).

A theorem's cost is what its search had spent when the proof was found, or in all when it was not: generated
(completion) tokens, and nodes expanded. Prompt tokens are not counted: they are a property of the prompt
format, not of how hard the search worked. "Equal compute" is the largest per-theorem spend both sides actually
gave every theorem (the smaller of the two sides' largest spends), so neither side is credited with budget the
other never had; a theorem counts as solved there when its proof cost at most that much. Rates divide by the
number of theorems of the run (errors and theorems never attempted included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

COSTS = ("tokens", "nodes")


@dataclass(frozen=True)
class Attempt:
    """One theorem's search as comparison sees it: whether it was proved and what it cost."""

    name: str
    proved: bool
    tokens: int
    nodes: int


@dataclass(frozen=True)
class Comparison:
    only_a: list[str]  # proved by a and not b (at any cost)
    only_b: list[str]
    both: list[str]
    totals: tuple[int, int]
    allowance: dict[str, int]  # cost -> the equal per-theorem allowance
    solved_at_allowance: dict[str, tuple[int, int]]
    curves: dict[str, tuple[list[int], list[int]]]  # cost -> sorted costs of each side's proofs

    def rate_at_allowance(self, cost: str) -> tuple[float, float]:
        solved = self.solved_at_allowance[cost]
        return tuple(s / t if t else 0.0 for s, t in zip(solved, self.totals, strict=True))  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        return {
            "only_a": self.only_a, "only_b": self.only_b, "both": self.both, "totals": list(self.totals),
            "equal_tokens": self.allowance["tokens"], "equal_nodes": self.allowance["nodes"],
            "solved_at_equal_tokens": list(self.solved_at_allowance["tokens"]),
            "solved_at_equal_nodes": list(self.solved_at_allowance["nodes"]),
            "rate_at_equal_tokens": list(self.rate_at_allowance("tokens")),
            "rate_at_equal_nodes": list(self.rate_at_allowance("nodes")),
        }


def compare(a: Sequence[Attempt], b: Sequence[Attempt], *, totals: tuple[int, int],
            allowance: dict[str, int] | None = None) -> Comparison:
    """Compare two sides; `allowance` fixes the per-theorem allowance of a cost instead of the equal one."""
    proved_a = {x.name for x in a if x.proved}
    proved_b = {x.name for x in b if x.proved}
    given = dict(allowance or {})
    allowances, solved, curves = {}, {}, {}
    for cost in COSTS:
        limit = given.get(cost)
        if limit is None:
            limit = min(max((getattr(x, cost) for x in a), default=0), max((getattr(x, cost) for x in b), default=0))
        allowances[cost] = limit
        solved[cost] = tuple(sum(1 for x in side if x.proved and getattr(x, cost) <= limit) for side in (a, b))
        curves[cost] = tuple(sorted(getattr(x, cost) for x in side if x.proved) for side in (a, b))
    return Comparison(sorted(proved_a - proved_b), sorted(proved_b - proved_a), sorted(proved_a & proved_b),
                      totals, allowances, solved, curves)


def format_comparison(comparison: Comparison, labels: tuple[str, str] = ("A", "B")) -> list[str]:
    """The lines the command line prints (the compare page shows the same figures)."""
    la, lb = labels
    lines = []
    for cost in COSTS:
        sa, sb = comparison.solved_at_allowance[cost]
        ra, rb = comparison.rate_at_allowance(cost)
        lines.append(f"at <= {comparison.allowance[cost]} {'generated tokens' if cost == 'tokens' else 'nodes'} per "
                     f"theorem: {la} {sa}/{comparison.totals[0]} ({ra:.1%})   {lb} {sb}/{comparison.totals[1]} ({rb:.1%})"
                     f"   delta {rb - ra:+.1%}")
    lines.append(f"proved by both ({len(comparison.both)})")
    lines.append(f"proved only by {la} ({len(comparison.only_a)}): {', '.join(comparison.only_a) or '-'}")
    lines.append(f"proved only by {lb} ({len(comparison.only_b)}): {', '.join(comparison.only_b) or '-'}")
    return lines
