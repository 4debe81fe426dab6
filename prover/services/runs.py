"""Run status changes, guarded by the state machine in prover.models.RUN_TRANSITIONS."""

from django.utils import timezone

from ..models import FINISHED, RUN_TRANSITIONS, RunStatus
from .errors import ServiceError


class InvalidTransition(ServiceError):
    pass


def transition_run(*, run, to: str, error: str = "", only_from: str | None = None):
    """Move `run` to status `to`, atomically: a concurrent change wins and this call raises InvalidTransition.

    `only_from` narrows the move to one current status (e.g. cancel at once only what is still queued).
    """
    if to not in RUN_TRANSITIONS:
        raise InvalidTransition(f'unknown run status "{to}"')
    allowed_from = [state for state, targets in RUN_TRANSITIONS.items() if to in targets]
    if only_from is not None:
        allowed_from = [state for state in allowed_from if state == only_from]
    now = timezone.now()
    changes: dict = {"status": to}
    if to == RunStatus.RUNNING:
        changes["started_at"] = now
    if to in FINISHED:
        changes["finished_at"] = now
    if error:
        changes["error"] = error
    # A conditional UPDATE, so two workers racing to finish one run cannot both succeed. Search runs and
    # training runs share the state machine: the run's own model is updated.
    objects = type(run)._default_manager
    updated = objects.filter(pk=run.pk, status__in=allowed_from).update(**changes)
    if not updated:
        current = objects.filter(pk=run.pk).values_list("status", flat=True).first()
        raise InvalidTransition(f"run {run.pk} cannot go from {current} to {to}")
    run.refresh_from_db()
    return run


def request_stop(*, run, channel, what: str = "run") -> bool:
    """Ask a search or training run to stop: the flag its workers poll, and at once if it is still queued.

    Returns True when the run was cancelled before any worker started it. A finished run is refused.
    """
    from .. import live

    run.refresh_from_db()
    if run.status in FINISHED:
        raise ServiceError(f"{what} {run.pk} has already {run.status}")
    type(run)._default_manager.filter(pk=run.pk).update(cancel_requested=True)
    live.request_cancel(channel)
    stopped_at_once = False
    if run.status == RunStatus.QUEUED:
        try:
            transition_run(run=run, to=RunStatus.CANCELLED, error="cancelled before it started",
                           only_from=RunStatus.QUEUED)
            stopped_at_once = True
        except InvalidTransition:
            pass  # a worker started it meanwhile: it sees the flag and stops at its next step
    run.refresh_from_db()
    return stopped_at_once
