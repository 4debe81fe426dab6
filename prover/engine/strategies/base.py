"""What a strategy is to the search loop: something that seeds the frontier and runs one round at a time."""

from __future__ import annotations

import enum
from typing import Protocol

from prover.engine.context import SearchContext


class RoundOutcome(enum.Enum):
    CONTINUE = "continue"
    PROVED = "proved"
    FRONTIER_EMPTY = "frontier_empty"
    EXHAUSTED = "exhausted"  # the strategy has spent its whole budget (pass@N after its one round)


class SearchStrategy(Protocol):
    def __init__(self, ctx: SearchContext) -> None: ...

    async def start(self) -> None:
        """Called once the root exists: score it and seed the frontier."""
        ...

    async def run_round(self) -> RoundOutcome: ...
