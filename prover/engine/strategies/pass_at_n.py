"""pass@N: one round of N independent whole-proof samples from the root, each replayed (docs/search.md#pass-at-n).

It shares the hybrid replay (and so its cache and guards) but never expands a second node: the
baseline that token efficiency is measured against must be N root samples, not rounds 2..k of a tree
search, as BurnQED's "pass@128" was.
"""

from __future__ import annotations

from prover.engine.strategies.base import RoundOutcome
from prover.engine.strategies.hybrid import HybridStrategy
from prover.engine.tree import SearchNode


class PassAtNStrategy(HybridStrategy):
    def sampling_for(self, leaf: SearchNode) -> tuple[int, int, float]:
        c = self.ctx.config
        return c.pass_n, c.pass_max_tokens, c.temperature

    async def run_round(self) -> RoundOutcome:
        if self.ctx.tree.root.expansion_order is not None:
            return RoundOutcome.FRONTIER_EMPTY
        outcome = await super().run_round()
        return outcome if outcome is RoundOutcome.PROVED else RoundOutcome.EXHAUSTED
