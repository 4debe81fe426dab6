"""One reaper for every kind of job: a running job that no worker has reported on for a while has lost its
worker (killed, out of memory, machine gone) and is failed with that reason, never left `running` forever."""

from django.conf import settings

from . import live, registry
from .lifecycle import InvalidTransition, silent, transition
from .models import JobStatus


def reap_stale_jobs() -> list[tuple[str, int]]:
    """Fail the silent running jobs of every registered kind; returns (kind, id) of each job it failed."""
    silence = settings.BURNQED_JOB_STALE_S
    failed = []
    for kind, spec in registry.kinds().items():
        if not spec.reaped:
            continue
        for job in spec.model._default_manager.filter(silent(), status=JobStatus.RUNNING):
            try:
                transition(job=job, to=JobStatus.FAILED, only_from=JobStatus.RUNNING, where=silent(),
                           error=f"no worker reported for {silence:.0f} s: its worker died or lost the database")
            except InvalidTransition:
                continue
            if spec.on_reaped is not None:
                spec.on_reaped(job)
            live.send_frame(live.JobChannel.of(job), "status", {"status": job.status, "error": job.error})
            failed.append((kind, job.pk))
    return failed
