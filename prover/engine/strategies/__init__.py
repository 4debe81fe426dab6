"""Search strategies over the shared SearchContext: best_first, hybrid and pass_at_n (docs/search.md#strategies)."""

from __future__ import annotations

from prover.engine.strategies.base import RoundOutcome, SearchStrategy
from prover.engine.strategies.best_first import BestFirstStrategy
from prover.engine.strategies.hybrid import HybridStrategy
from prover.engine.strategies.pass_at_n import PassAtNStrategy

STRATEGY_CLASSES: dict[str, type[SearchStrategy]] = {
    "best_first": BestFirstStrategy,
    "hybrid": HybridStrategy,
    "pass_at_n": PassAtNStrategy,
}

__all__ = ["STRATEGY_CLASSES", "BestFirstStrategy", "HybridStrategy", "PassAtNStrategy", "RoundOutcome",
           "SearchStrategy"]
