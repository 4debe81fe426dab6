"""Status changes of any job, guarded by the state machine in jobs.models.TRANSITIONS, and its heartbeat.

Every change is one conditional UPDATE, so two workers racing on one job cannot both win.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from . import live
from .errors import ServiceError
from .models import FINISHED, TRANSITIONS, JobStatus
from .signals import job_finished

log = logging.getLogger(__name__)


class InvalidTransition(ServiceError):
    pass


def transition(*, job, to: str, error: str = "", only_from: str | None = None, where: Q | None = None):
    """Move `job` to status `to`, atomically: a concurrent change wins and this call raises InvalidTransition.

    `only_from` narrows the move to one current status (e.g. cancel at once only what is still queued);
    `where` adds a condition checked in the same UPDATE (the reaper's "still silent").
    """
    if to not in TRANSITIONS:
        raise InvalidTransition(f'unknown job status "{to}"')
    allowed_from = [state for state, targets in TRANSITIONS.items() if to in targets]
    if only_from is not None:
        allowed_from = [state for state in allowed_from if state == only_from]
    now = timezone.now()
    changes: dict = {"status": to}
    if to == JobStatus.RUNNING:
        changes.update(started_at=now, heartbeat_at=now, attempts=F("attempts") + 1)
    if to in FINISHED:
        changes["finished_at"] = now
    if error:
        changes["error"] = error
    objects = type(job)._default_manager
    target = objects.filter(pk=job.pk, status__in=allowed_from)
    if where is not None:
        target = target.filter(where)
    if not target.update(**changes):
        current = objects.filter(pk=job.pk).values_list("status", flat=True).first()
        raise InvalidTransition(f"{job.channel_kind} {job.pk} cannot go from {current} to {to}")
    job.refresh_from_db()
    if to in FINISHED:
        job_finished.send(sender=type(job), job=job)
    return job


def settle(*, job, to: str, error: str = "") -> bool:
    """End a job this worker ran with status `to`; False (and the job left as it is) when something else ended
    it first, e.g. the reaper during a long pause of this worker."""
    try:
        transition(job=job, to=to, error=error)
        return True
    except InvalidTransition:
        job.refresh_from_db()
        log.warning("%s %s was already %s; not marking it %s", job.channel_kind, job.pk, job.status, to)
        return False


def silent() -> Q:
    """Jobs no worker has stamped for BURNQED_JOB_STALE_S seconds."""
    cutoff = timezone.now() - timedelta(seconds=settings.BURNQED_JOB_STALE_S)
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)


def claim(*, job) -> bool:
    """Take `job` for this worker: a queued job starts; a running job whose worker has gone silent (its task
    was redelivered after the worker died) is taken over. False when the job is finished or another worker is
    alive on it: then this delivery must do nothing."""
    objects = type(job)._default_manager
    try:
        transition(job=job, to=JobStatus.RUNNING, only_from=JobStatus.QUEUED)
        return True
    except InvalidTransition:
        pass
    taken = objects.filter(silent(), pk=job.pk, status=JobStatus.RUNNING).update(
        heartbeat_at=timezone.now(), attempts=F("attempts") + 1)
    job.refresh_from_db()
    if taken:
        log.warning("%s %s: its worker went silent; this delivery takes it over (attempt %s)",
                    job.channel_kind, job.pk, job.attempts)
    return bool(taken)


def request_stop(*, job) -> bool:
    """Ask a job to stop: the flag its workers poll, and at once if it is still queued.

    Returns True when the job was cancelled before any worker started it. A finished job is refused.
    """
    job.refresh_from_db()
    if job.status in FINISHED:
        raise ServiceError(f"{job.channel_kind} {job.pk} has already {job.status}")
    type(job)._default_manager.filter(pk=job.pk).update(cancel_requested=True)
    live.request_cancel(live.JobChannel.of(job))
    stopped_at_once = False
    if job.status == JobStatus.QUEUED:
        try:
            transition(job=job, to=JobStatus.CANCELLED, error="cancelled before it started", only_from=JobStatus.QUEUED)
            stopped_at_once = True
        except InvalidTransition:
            pass  # a worker started it meanwhile: it sees the flag and stops at its next step
    job.refresh_from_db()
    return stopped_at_once


class Heartbeat:
    """While a worker executes a job, a thread stamps `heartbeat_at` every `every_s` seconds.

    It proves the process is alive, not that it progresses: a loop that thinks for a long time is not reaped,
    a worker that is killed stops beating and is. Use as a context manager around the job's work.
    """

    def __init__(self, job, every_s: float | None = None) -> None:
        self.model, self.pk = type(job), job.pk
        self.every_s = settings.BURNQED_HEARTBEAT_S if every_s is None else every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job.channel_kind}-{job.pk}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.is_set():
                self.model._default_manager.filter(pk=self.pk).update(heartbeat_at=timezone.now())
                self._stop.wait(self.every_s)
        except Exception:  # the database went away: the reaper will notice the silence
            log.exception("heartbeat of %s %s stopped", self.model.__name__, self.pk)
        finally:
            connection.close()
