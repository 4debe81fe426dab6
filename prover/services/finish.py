"""Closing a run: after its last chunk (the chord's callback), or when the reaper finds its worker dead."""

from django.db.models import Count, Q, Sum
from django.utils import timezone

from jobs import live
from jobs.lifecycle import settle
from jobs.models import FINISHED, JobStatus

from ..execution.trajectories import merge_run_trajectories
from ..models import Run, TheoremResult

UNFINISHED = ("pending", "running")


def finish_run(*, run_id: int) -> Run:
    """After every chunk: close the run with the status its results earn, and merge the trajectories."""
    run = Run.objects.get(pk=run_id)
    if run.status in FINISHED:
        return run
    TheoremResult.objects.filter(run=run, status__in=UNFINISHED).update(
        status="cancelled" if run.cancel_requested else "error",
        failure_reason="cancelled" if run.cancel_requested else "error", finished_at=timezone.now(),
    )
    recount(run)
    run.refresh_from_db()
    if run.cancel_requested:
        target, error = JobStatus.CANCELLED, "cancelled by request"
    elif run.theorems_total and TheoremResult.objects.filter(run=run, status="error").count() == run.theorems_total:
        first = TheoremResult.objects.filter(run=run, status="error").exclude(error="").values_list("error", flat=True).first()
        target, error = JobStatus.FAILED, f"every theorem ended in error: {first or 'see results'}"
    else:
        target, error = JobStatus.SUCCEEDED, ""
    if run.status == JobStatus.QUEUED and target == JobStatus.SUCCEEDED:
        target, error = JobStatus.FAILED, "no chunk of the run started"
    try:
        merge_run_trajectories(run)
    except OSError as exc:  # the results stay; what training would read could not be written
        run.error = run.error or f"the run's trajectories could not be written: {exc}"
    if target == JobStatus.SUCCEEDED and run.error:  # a chunk or the merge could not keep what it found
        target, error = JobStatus.FAILED, run.error
    settle(job=run, to=target, error=error)
    live.send_frame(live.JobChannel.of(run), "run", {"status": run.status, "error": run.error})
    return run


def close_reaped_run(run: Run) -> None:
    """The reaper failed `run` (its worker died): its unfinished theorems end in error and the counters add up."""
    TheoremResult.objects.filter(run=run, status__in=UNFINISHED).update(
        status="error", failure_reason="error", error="the worker searching it died", finished_at=timezone.now())
    recount(run)


def recount(run: Run) -> None:
    """Counters from the results themselves: whatever happened to a worker, the finished run adds up."""
    totals = TheoremResult.objects.filter(run=run).aggregate(
        done=Count("pk", filter=~Q(status__in=UNFINISHED)), proved=Count("pk", filter=Q(status="proved")),
        nodes=Sum("nodes_expanded"), tokens=Sum("tokens"), lean=Sum("lean_ms"), gen=Sum("generate_ms"), ebm=Sum("ebm_ms"),
    )
    Run.objects.filter(pk=run.pk).update(
        theorems_done=totals["done"], theorems_proved=totals["proved"], nodes_expanded=totals["nodes"] or 0,
        tokens=totals["tokens"] or 0, lean_ms=totals["lean"] or 0, generate_ms=totals["gen"] or 0, ebm_ms=totals["ebm"] or 0,
    )
