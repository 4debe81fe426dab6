"""One chunk of a run searched on this machine: the one orchestration that a Celery worker and the command
line both run. It opens the backends the run spec names, has each describe itself (versions, the model it
serves), refuses a dataset written for another Lean, reports the verifier's health every few seconds while it
searches, and writes trajectories as theorems finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from prover.engine.adapters import open_backends
from prover.engine.backends import Backends
from prover.engine.cancellation import CancelSignal
from prover.engine.events import EventCallback
from prover.engine.result import SearchResult
from prover.engine.runner import search_theorems
from prover.engine.spec import RunSpec
from prover.engine.theorems import NamedStatement
from prover.engine.trajectory import TrajectoryWriter

Report = Callable[[dict[str, Any]], None]


async def describe_backends(backends: Backends) -> dict[str, Any]:
    """What each backend says it is (a backend without `describe()` says nothing): part of what makes two
    runs comparable, stored with the run."""
    described: dict[str, Any] = {}
    for name, backend in (("lean", backends.verifier), ("policy", backends.policy), ("value", backends.scorer)):
        describe = getattr(backend, "describe", None)
        if describe is not None:
            described[name] = await describe()
    return described


async def search_chunk(theorems: Sequence[NamedStatement], *, spec: RunSpec, pantograph_repl: str,
                       writer: TrajectoryWriter | None = None, dataset: str = "", dataset_lean: str = "",
                       on_event: EventCallback | None = None, on_result: Callable[[SearchResult], None] | None = None,
                       on_described: Report | None = None, on_health: Report | None = None,
                       health_every_s: float = 2.0, cancel: CancelSignal = None) -> list[SearchResult]:
    """Search `theorems` with the backends and settings of `spec`; results in theorem order.

    Raises before searching when the backends cannot start or the dataset's Lean version is refused: then no
    theorem of the chunk was searched.
    """
    async with open_backends(spec.stack_settings(pantograph_repl=pantograph_repl)) as backends:
        check = getattr(backends.verifier, "require_compatible", None)
        if check is not None:
            check(dataset_lean or None, dataset=f'dataset "{dataset}"', allow_mismatch=spec.allow_lean_version_mismatch)
        if on_described is not None:
            on_described(await describe_backends(backends))
        health = getattr(backends.verifier, "health", None)
        reporter = None
        if on_health is not None and health is not None:
            reporter = asyncio.create_task(_report(health, on_health, health_every_s))
        try:
            return await search_theorems(theorems, config=spec.search, backends=backends,
                                         concurrency=spec.concurrency, writer=writer, on_event=on_event,
                                         cancel=cancel, on_result=on_result, keep_trees=False)
        finally:
            if reporter is not None:
                reporter.cancel()
                on_health(health())  # the final count


async def _report(health: Callable[[], dict], on_health: Report, every_s: float) -> None:
    while True:
        on_health(health())
        await asyncio.sleep(every_s)
