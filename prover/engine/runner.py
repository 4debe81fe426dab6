"""Search a list of theorems with bounded concurrency, writing trajectories as results arrive.

Each concurrent theorem holds one verifier process for its whole proof, so `concurrency` should not
exceed the pool size. Theorems already in the trajectory file are skipped (resume).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from prover.engine.backends import Backends
from prover.engine.cancellation import CancelSignal, as_cancel_check
from prover.engine.config import SearchConfig
from prover.engine.events import EventCallback
from prover.engine.result import SearchResult
from prover.engine.search import search_theorem
from prover.engine.theorems import NamedStatement
from prover.engine.trajectory import TrajectoryWriter


async def search_theorems(theorems: Sequence[NamedStatement], *, config: SearchConfig, backends: Backends,
                          concurrency: int = 1, writer: TrajectoryWriter | None = None,
                          on_event: EventCallback | None = None, cancel: CancelSignal = None,
                          on_result: Callable[[SearchResult], None] | None = None,
                          keep_trees: bool = True) -> list[SearchResult]:
    """Results in theorem order, for the theorems that were searched (not those skipped by resume).

    With `keep_trees=False` each result's DAG is dropped once written and reported, so memory stays flat
    over thousands of theorems (summaries, stats and proofs are kept).

    Once cancelled, theorems not yet started are not started; running ones stop with reason `cancelled`.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    is_cancelled = as_cancel_check(cancel)
    todo = [t for t in theorems if writer is None or t.name not in writer.done]
    gate = asyncio.Semaphore(concurrency)
    results: dict[str, SearchResult] = {}

    async def one(theorem: NamedStatement) -> None:
        async with gate:
            if is_cancelled():
                return
            result = await search_theorem(theorem.name, theorem.statement, config=config, backends=backends,
                                          on_event=on_event, cancel=is_cancelled)
            results[theorem.name] = result
            if writer is not None:
                writer.add(result)
            if on_result is not None:
                on_result(result)
            if not keep_trees:
                result.drop_tree()

    await asyncio.gather(*(one(t) for t in todo))
    if writer is not None:
        writer.flush()
    return [results[t.name] for t in todo if t.name in results]
