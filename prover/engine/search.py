"""The search loop of one theorem: open a proof, let the strategy run rounds until a stop condition, report.

    result = await search_theorem("t1", "∀ (x : ℝ) (h : x = 2), x + 1 = 3",
                                  config=SearchConfig.for_strategy("best_first"),
                                  backends=Backends(verifier, policy, scorer),
                                  on_event=callback, cancel=threading_event)

Budgets are checked between rounds (docs/search.md#budgets), cancellation and the wall clock also between
replays. A verifier or policy failure ends the theorem with reason `error` and its message; a value-model
failure never does (docs/search.md#value-scores).
"""

from __future__ import annotations

import time

from prover.engine.backends import Backends
from prover.engine.cancellation import CancelSignal, as_cancel_check
from prover.engine.config import SearchConfig
from prover.engine.context import SearchContext, proof_text
from prover.engine.events import EventCallback, SearchStarted, TheoremFinished
from prover.engine.result import FailureReason, SearchResult
from prover.engine.stats import SearchStats
from prover.engine.strategies import STRATEGY_CLASSES, RoundOutcome
from prover.engine.tree import SearchTree


async def search_theorem(theorem_name: str, statement: str, *, config: SearchConfig, backends: Backends,
                         on_event: EventCallback | None = None, cancel: CancelSignal = None) -> SearchResult:
    """Search one theorem with `config.strategy`; never raises for a search failure (see `failure_reason`)."""
    started = time.perf_counter()
    is_cancelled = as_cancel_check(cancel)
    ctx: SearchContext | None = None
    reason = FailureReason.ERROR
    error = ""
    try:
        if not statement.strip():
            raise ValueError(f"theorem {theorem_name!r}: the statement is empty")
        async with backends.verifier.open_proof(statement) as session:
            # The clock (and so the timeout) starts once the proof holds its verifier process: time spent
            # queueing for a free worker is not search time.
            started = time.perf_counter()
            ctx = SearchContext(theorem_name=theorem_name, statement=statement, config=config, backends=backends,
                                session=session, on_event=on_event, is_cancelled=is_cancelled, started=started)
            ctx.emit(SearchStarted, statement=statement, strategy=config.strategy, config=config.to_dict())
            ctx.add_root(session.root_state_id, getattr(session, "root_goals", ()))
            strategy = STRATEGY_CLASSES[config.strategy](ctx)
            await strategy.start()
            reason = await _run_rounds(ctx, strategy)
    except Exception as exc:  # any backend failure ends this theorem, never the whole run
        reason = FailureReason.ERROR
        error = f"{type(exc).__name__}: {exc}"
    return _finish(ctx, theorem_name, statement, config, started, reason, error, on_event)


async def _run_rounds(ctx: SearchContext, strategy) -> FailureReason:
    while True:
        stop = ctx.stop_reason()
        if stop is not None:
            return stop
        outcome = await strategy.run_round()
        # Cumulative compute after each round: what a live chart of tokens vs nodes needs.
        ctx.metric("completion_tokens", ctx.stats.completion_tokens)
        ctx.metric("nodes_expanded", ctx.stats.nodes_expanded)
        if outcome is RoundOutcome.PROVED:
            return FailureReason.PROVED
        ctx.stats.rounds += 1
        if outcome is RoundOutcome.FRONTIER_EMPTY:
            return FailureReason.FRONTIER_EXHAUSTED
        if outcome is RoundOutcome.EXHAUSTED:
            return FailureReason.BUDGET_EXHAUSTED


def _finish(ctx: SearchContext | None, theorem_name: str, statement: str, config: SearchConfig, started: float,
            reason: FailureReason, error: str, on_event: EventCallback | None) -> SearchResult:
    wall_ms = (time.perf_counter() - started) * 1000.0
    if ctx is None:  # the proof could not even be started
        result = SearchResult(theorem_name, statement, config.strategy, reason, [], "", wall_ms, SearchStats(),
                              SearchTree(), error=error)
        if on_event is not None:
            on_event(TheoremFinished(theorem_name=theorem_name, seq=1, elapsed_ms=wall_ms, proved=False,
                                     failure_reason=reason.value, result=result.to_dict()))
        return result
    if reason is FailureReason.PROVED:
        ctx.stats.rounds += 1  # the proving round counts
    ctx.stats.peak_frontier_size = max(ctx.stats.peak_frontier_size, ctx.frontier.peak_size)
    tactics = ctx.tree.proof_tactics(ctx.proof_terminal) if ctx.proof_terminal is not None else []
    result = SearchResult(theorem_name, statement, config.strategy, reason, tactics,
                          proof_text(tactics) if tactics else "", wall_ms, ctx.stats, ctx.tree,
                          usage=ctx.usage_at_proof if reason is FailureReason.PROVED else None,
                          terminal_node_id=ctx.proof_terminal, error=error, q_values=ctx.cache.q_and_visits())
    ctx.emit(TheoremFinished, proved=result.proved, failure_reason=reason.value, result=result.to_dict())
    return result
