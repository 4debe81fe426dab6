"""What a worker does with one chunk of a run: the core's `search_chunk` with the run's spec, its events
recorded as rows and live frames, its trajectories written beside the run's other chunks.

A redelivered chunk (its first worker died) searches only what is not finished yet. This function never
raises: the chord that finishes the run must always fire, so any failure ends the chunk's unfinished
theorems in error with the reason, and the run says so.
"""

import asyncio
import logging
import time

import redis
from django.conf import settings
from django.utils import timezone

from jobs import live
from jobs.lifecycle import Heartbeat, InvalidTransition, transition
from jobs.models import JobStatus
from prover.engine.chunk import search_chunk
from prover.engine.spec import RunSpec
from prover.engine.theorems import TheoremStatement
from prover.engine.trajectory import TrajectoryWriter

from ..models import ProofNode, Run, TheoremResult
from .recording import RunRecorder
from .trajectories import chunk_trajectory_path

log = logging.getLogger(__name__)
UNFINISHED = ("pending", "running")


class CancelPoll:
    """The engine asks between expansions; Redis is asked at most every `every` seconds."""

    def __init__(self, channel: live.JobChannel, every: float = 0.25) -> None:
        self.channel, self.every = channel, every
        self._next, self._value = 0.0, False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._value and now >= self._next:
            self._next = now + self.every
            try:
                self._value = live.cancel_requested(self.channel)
            except redis.RedisError as exc:  # Redis restarting: search on, ask again at the next poll
                log.warning("run %s: cancel flag unreadable (%s)", self.channel.id, exc)
        return self._value


def run_chunk(run_id: int, run_key: str, chunk: int, theorem_ids: list[int]) -> dict:
    """Search one chunk of a run; an outcome summary for the chord. A task whose run key does not match is
    older than this database (a broker outlives databases) and is dropped: run ids restart, keys do not."""
    run = Run.objects.select_related("dataset").filter(pk=run_id, key=run_key).first()
    if run is None:
        return {"chunk": chunk, "searched": 0, "skipped": "unknown run"}
    unfinished = TheoremResult.objects.filter(run=run, theorem_id__in=theorem_ids, status__in=UNFINISHED)
    try:
        return _search(run, chunk, list(unfinished.select_related("theorem")))
    except Exception as exc:
        log.exception("run %s chunk %s failed", run_id, chunk)
        message = f"{type(exc).__name__}: {exc}"
        unfinished.update(status="error", failure_reason="error", error=message, finished_at=timezone.now())
        if isinstance(exc, OSError):  # the machine failed the run (disk full, ...): the run must not end succeeded
            Run.objects.filter(pk=run.pk, error="").update(error=f"chunk {chunk}: {message}")
        live.send_frame(live.JobChannel.of(run), "chunk_failed", {"chunk": chunk, "error": message})
        return {"chunk": chunk, "searched": 0, "error": message}


def _search(run: Run, chunk: int, results: list[TheoremResult]) -> dict:
    channel = live.JobChannel.of(run)
    if run.finished or live.cancel_requested(channel):
        TheoremResult.objects.filter(pk__in=[r.pk for r in results], status="pending").update(status="cancelled")
        return {"chunk": chunk, "searched": 0, "skipped": "run finished or cancelled"}
    try:
        transition(job=run, to=JobStatus.RUNNING)
    except InvalidTransition:
        pass  # another chunk started the run already
    taken_over = [r.theorem_id for r in results if r.status == "running"]
    if taken_over:
        # A worker died mid-search on these (this is a redelivered chunk): their partial trees go, and they are
        # searched again from the root, so each theorem keeps one tree and node ids do not collide.
        ProofNode.objects.filter(run=run, theorem_id__in=taken_over).delete()
    spec = RunSpec.from_mapping(run.config)
    theorems = [TheoremStatement(r.theorem.name, r.theorem.statement) for r in results]
    TheoremResult.objects.filter(pk__in=[r.pk for r in results]).update(status="running", started_at=timezone.now())
    dataset = run.dataset  # read here: no database access is allowed inside the event loop
    recorder = RunRecorder(channel, {r.theorem.name: r.theorem_id for r in results})
    try:
        with Heartbeat(run), TrajectoryWriter(chunk_trajectory_path(run, chunk)) as writer:
            searched = asyncio.run(search_chunk(
                theorems, spec=spec, pantograph_repl=settings.BURNQED_PANTOGRAPH_REPL, writer=writer,
                dataset=dataset.name if dataset else "", dataset_lean=dataset.lean_version if dataset else "",
                on_event=recorder, on_described=recorder.note_versions, on_health=recorder.note_pool,
                cancel=CancelPoll(channel),
            ))
    finally:
        recorder.close()
    return {"chunk": chunk, "searched": len(searched)}
