"""What a GPU worker does with one chunk of a run: build the backends the run's config names, search each
theorem with the engine, and record everything as it happens. Called by the `burnqed.run_chunk` task."""

import asyncio
import logging
import socket
import time
from pathlib import Path

from django.utils import timezone

from prover.engine.adapters import StackSettings, open_backends
from prover.engine.config import SearchConfig
from prover.engine.runner import search_theorems
from prover.engine.theorems import Theorem as EngineTheorem
from prover.engine.trajectory import TrajectoryWriter
from prover.lean.versions import require_compatible_lean

from . import live
from .models import Run, RunStatus, TheoremResult
from .recording import RunRecorder
from .services import InvalidTransition, transition_run
from .trajectories import run_trajectory_dir

log = logging.getLogger(__name__)


def stack_settings(config: dict) -> StackSettings:
    return StackSettings(
        policy_url=config["policy_url"],
        encoder_url=config["encoder_url"] or None,
        ebm_path=config["ebm_path"] or None,
        lean=config["lean"],
        pantograph_repl=config["pantograph_repl"],
        num_workers=config["lean_workers"],
        prompt_format=config["prompt_format"],
    )


def chunk_trajectory_path(run: Run, chunk: int) -> Path:
    return run_trajectory_dir(run) / f"chunk-{chunk:05d}.parquet"


class CancelPoll:
    """The engine asks between expansions; Redis is asked at most every `every` seconds."""

    def __init__(self, channel: live.RunChannel, every: float = 0.25) -> None:
        self.channel, self.every = channel, every
        self._next, self._value = 0.0, False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._value and now >= self._next:
            self._value = live.cancel_requested(self.channel)
            self._next = now + self.every
        return self._value


def run_chunk(run_id: int, chunk: int, theorem_ids: list[int]) -> dict:
    run = Run.objects.select_related("dataset").get(pk=run_id)
    # A redelivered chunk (its first worker died) searches only what is not finished yet.
    results = list(TheoremResult.objects.filter(run=run, theorem_id__in=theorem_ids, status__in=["pending", "running"])
                   .select_related("theorem"))
    channel = live.RunChannel.of(run)
    if run.finished or live.cancel_requested(channel):
        TheoremResult.objects.filter(pk__in=[r.pk for r in results], status="pending").update(status="cancelled")
        return {"chunk": chunk, "searched": 0, "skipped": "run finished or cancelled"}
    try:
        transition_run(run=run, to=RunStatus.RUNNING)
    except InvalidTransition:
        pass  # another chunk started the run already
    config = run.config
    search_config = SearchConfig.from_mapping(config["search"])
    theorems = [EngineTheorem(r.theorem.name, r.theorem.statement) for r in results]
    TheoremResult.objects.filter(pk__in=[r.pk for r in results]).update(status="running", started_at=timezone.now())
    recorder = RunRecorder(channel, {r.theorem.name: r.theorem_id for r in results})
    outcome: dict = {"chunk": chunk, "searched": 0}
    try:
        dataset = run.dataset  # read here: no database access is allowed inside the event loop
        outcome["searched"] = asyncio.run(_search(
            channel, chunk_trajectory_path(run, chunk), config, search_config, theorems, recorder,
            dataset_name=dataset.name if dataset else "", dataset_lean=dataset.lean_version if dataset else "",
        ))
    except Exception as exc:
        # The backends could not start (policy unreachable, Lean missing, version refused): every theorem of
        # the chunk ends in error with the reason, and the run will say so.
        message = f"{type(exc).__name__}: {exc}"
        log.exception("run %s chunk %s failed", run_id, chunk)
        TheoremResult.objects.filter(pk__in=[r.pk for r in results], status__in=["pending", "running"]).update(
            status="error", failure_reason="error", error=message, finished_at=timezone.now()
        )
        live.send_frame(channel, "chunk_failed", {"chunk": chunk, "error": message})
        outcome["error"] = message
    finally:
        recorder.close()
    return outcome


async def _search(channel: live.RunChannel, path: Path, config: dict, search_config: SearchConfig,
                  theorems: list[EngineTheorem], recorder: RunRecorder, *, dataset_name: str, dataset_lean: str) -> int:
    async with open_backends(stack_settings(config)) as backends:
        versions = backends.verifier.pool.versions
        require_compatible_lean(
            dataset_lean or None, versions, dataset=f'dataset "{dataset_name}"',
            allow_mismatch=config["allow_lean_version_mismatch"],
        )
        recorder.note_versions({"lean": versions.as_dict(), "policy": await _policy_info(backends, config)})
        reporter = asyncio.create_task(_report_pool(backends.verifier.pool, recorder))
        path.parent.mkdir(parents=True, exist_ok=True)
        with TrajectoryWriter(path) as writer:
            results = await search_theorems(
                theorems, config=search_config, backends=backends, concurrency=config["concurrency"],
                writer=writer, on_event=recorder, cancel=CancelPoll(channel), keep_trees=False,
            )
        reporter.cancel()
        recorder.note_pool({"worker": socket.gethostname(), **backends.verifier.pool.stats().as_dict()})  # the final count
    return len(results)


async def _policy_info(backends, config: dict) -> dict:
    """What the policy server says it serves (model path, ...): part of what makes two runs comparable."""
    info = {"url": config["policy_url"], "prompt_format": config["prompt_format"], "ebm_path": config["ebm_path"]}
    try:
        served = await backends.policy.policy.client.model_info()
    except Exception as exc:  # an older server without the endpoint still runs searches
        return {**info, "model_info_error": f"{type(exc).__name__}: {exc}"}
    return {**info, **{k: v for k, v in served.items() if isinstance(v, str | int | float | bool)}}


async def _report_pool(pool, recorder: RunRecorder, every_s: float = 2.0) -> None:
    """The Lean pool's health (busy workers, restarts, timeouts, queue waits) for the run page, every few seconds."""
    host = socket.gethostname()
    while True:
        recorder.note_pool({"worker": host, **pool.stats().as_dict()})
        await asyncio.sleep(every_s)


def run_chunk_safely(run_id: int, run_key: str, chunk: int, theorem_ids: list[int]) -> dict:
    """run_chunk that never raises: the chord that finishes the run must always fire, so a bug or a lost
    database connection ends this chunk's theorems in error instead of leaving the run `running` forever.

    A task whose run key does not match is older than this database (a broker outlives databases) and is
    dropped: run ids restart, keys do not."""
    if not Run.objects.filter(pk=run_id, key=run_key).exists():
        return {"chunk": chunk, "searched": 0, "skipped": "unknown run"}
    try:
        return run_chunk(run_id, chunk, theorem_ids)
    except Exception as exc:
        log.exception("run %s chunk %s crashed", run_id, chunk)
        message = f"worker error: {type(exc).__name__}: {exc}"
        TheoremResult.objects.filter(run_id=run_id, theorem_id__in=theorem_ids, status__in=["pending", "running"]).update(
            status="error", failure_reason="error", error=message, finished_at=timezone.now()
        )
        return {"chunk": chunk, "searched": 0, "error": message}
