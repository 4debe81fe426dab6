"""Launching, cloning, cancelling and finishing runs."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..bulk import insert_rows
from ..models import FINISHED, Dataset, Run, RunStatus, Theorem, TheoremResult
from ..roles import can_launch
from ..run_config import normalise
from ..versions import package_versions
from .errors import ServiceError
from .runs import InvalidTransition, request_stop, transition_run


def _dataset(value: Any) -> Dataset | None:
    if isinstance(value, Dataset):
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return Dataset.objects.filter(pk=int(value)).first()
    return Dataset.objects.filter(name=value).first() if isinstance(value, str) else None


def select_theorems(config: dict, dataset: Dataset) -> tuple[list[int], dict[str, list[str]]]:
    """Theorem ids of the run in name order, and errors for names the dataset does not have."""
    queryset = Theorem.objects.filter(dataset=dataset).order_by("name")
    if config["split"]:
        queryset = queryset.filter(split=config["split"])
    errors: dict[str, list[str]] = {}
    if config["theorems"]:
        wanted = list(dict.fromkeys(config["theorems"]))
        found = dict(queryset.filter(name__in=wanted).values_list("name", "pk"))
        missing = [name for name in wanted if name not in found]
        if missing:
            where = f' (split "{config["split"]}")' if config["split"] else ""
            errors["theorems"] = [f'not in dataset "{dataset.name}"{where}: {", ".join(missing[:10])}'
                                  + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")]
        ids = [found[name] for name in sorted(found)]
    else:
        ids = list(queryset.values_list("pk", flat=True))
    if config["limit"]:
        ids = ids[: config["limit"]]
    if not ids and not errors:
        errors["dataset"] = [f'no theorems to prove in "{dataset.name}" with these filters']
    return ids, errors


def launch_run(*, user, config: Mapping[str, Any], name: str = "", cloned_from: Run | None = None) -> Run:
    """Validate `config`, store the run with its theorems pending, and dispatch it after the commit."""
    if not can_launch(user):
        raise ServiceError("launching runs needs the researcher or admin role")
    normalised, errors = normalise(config)
    dataset = None
    if "dataset" not in errors and normalised.get("dataset") not in (None, ""):
        dataset = _dataset(normalised["dataset"])
        if dataset is None:
            errors.setdefault("dataset", []).append(f"no dataset {normalised['dataset']!r}")
    theorem_ids: list[int] = []
    if dataset is not None and not {"theorems", "split", "limit"} & set(errors):
        theorem_ids, theorem_errors = select_theorems(normalised, dataset)
        errors.update(theorem_errors)
    if errors:
        raise ServiceError.from_errors(errors)
    normalised["dataset"] = dataset.name
    with transaction.atomic():
        run = Run.objects.create(
            name=name.strip() or f"{normalised['search']['strategy']} on {dataset.name}",
            dataset=dataset, config=normalised, versions=package_versions(), owner=user, cloned_from=cloned_from,
            theorems_total=len(theorem_ids),
        )
        insert_rows(
            TheoremResult._meta.db_table, ("run_id", "theorem_id", "status", "failure_reason", "error", "proof",
                                           "proof_tactics", "nodes_expanded", "total_states", "max_depth", "tokens",
                                           "wall_ms", "lean_ms", "generate_ms", "ebm_ms", "stats"),
            [(run.pk, tid, "pending", "", "", "", "[]", 0, 0, 0, 0, 0, 0, 0, 0, "{}") for tid in theorem_ids],
        )
        transaction.on_commit(lambda: _dispatch(run, theorem_ids, normalised["chunk_size"]))
    return run


def _dispatch(run: Run, theorem_ids: list[int], chunk_size: int) -> None:
    from celery import chord

    from ..tasks import finish_run, run_chunk

    key = run.key.hex
    chunks = [theorem_ids[i : i + chunk_size] for i in range(0, len(theorem_ids), chunk_size)]
    chord(run_chunk.si(run.pk, key, number, ids) for number, ids in enumerate(chunks))(finish_run.si(run.pk, key))


def cancel_run(*, user, run: Run) -> Run:
    """Stop a run: queued runs end at once; running ones stop at the next expansion of every worker."""
    from .. import live

    if not can_launch(user):
        raise ServiceError("cancelling runs needs the researcher or admin role")
    if request_stop(run=run, channel=live.RunChannel.of(run)):
        TheoremResult.objects.filter(run=run, status="pending").update(status="cancelled")
    live.send_frame(live.RunChannel.of(run), "run", {"status": run.status, "cancel_requested": True})
    return run


def finish_run(*, run_id: int) -> Run:
    """After every chunk: close the run with the status its results earn, and merge the trajectories."""
    from .. import live

    run = Run.objects.get(pk=run_id)
    if run.status in FINISHED:
        return run
    TheoremResult.objects.filter(run=run, status__in=["pending", "running"]).update(
        status="cancelled" if run.cancel_requested else "error",
        failure_reason="cancelled" if run.cancel_requested else "error", finished_at=timezone.now(),
    )
    _recount(run)
    run.refresh_from_db()
    counts = {s: TheoremResult.objects.filter(run=run, status=s).count() for s in ("error", "cancelled")}
    if run.cancel_requested:
        target, error = RunStatus.CANCELLED, "cancelled by request"
    elif run.theorems_total and counts["error"] == run.theorems_total:
        first = TheoremResult.objects.filter(run=run, status="error").exclude(error="").values_list("error", flat=True).first()
        target, error = RunStatus.FAILED, f"every theorem ended in error: {first or 'see results'}"
    else:
        target, error = RunStatus.SUCCEEDED, ""
    if run.status == RunStatus.QUEUED and target == RunStatus.SUCCEEDED:
        target = RunStatus.FAILED
        error = "no chunk of the run started"
    try:
        run = transition_run(run=run, to=target, error=error)
    except InvalidTransition:
        run.refresh_from_db()
    from ..trajectories import merge_run_trajectories

    merge_run_trajectories(run)
    live.send_frame(live.RunChannel.of(run), "run", {"status": run.status, "error": run.error})
    return run


def _recount(run: Run) -> None:
    """Counters from the results themselves: whatever happened to a worker, the finished run adds up."""
    from django.db.models import Count, Q, Sum

    totals = TheoremResult.objects.filter(run=run).aggregate(
        done=Count("pk", filter=~Q(status__in=["pending", "running"])), proved=Count("pk", filter=Q(status="proved")),
        nodes=Sum("nodes_expanded"), tokens=Sum("tokens"), lean=Sum("lean_ms"), gen=Sum("generate_ms"), ebm=Sum("ebm_ms"),
    )
    Run.objects.filter(pk=run.pk).update(
        theorems_done=totals["done"], theorems_proved=totals["proved"], nodes_expanded=totals["nodes"] or 0,
        tokens=totals["tokens"] or 0, lean_ms=totals["lean"] or 0, generate_ms=totals["gen"] or 0, ebm_ms=totals["ebm"] or 0,
    )


def reap_stale_runs(*, silence_s: float) -> list[int]:
    """Fail the running runs no worker has reported on for `silence_s` seconds: their worker died.

    Workers beat every few seconds while they search (RunRecorder), so silence means nobody is working on the
    run; it must not stay `running` forever. Returns the ids of the runs it failed.
    """
    from datetime import timedelta

    from django.db.models import Q

    cutoff = timezone.now() - timedelta(seconds=silence_s)
    stale = Run.objects.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
    failed = []
    for run in stale:
        try:
            transition_run(run=run, to=RunStatus.FAILED, only_from=RunStatus.RUNNING,
                           error=f"no worker reported for {silence_s:.0f} s: its worker died or lost the database")
        except InvalidTransition:
            continue
        TheoremResult.objects.filter(run=run, status__in=["pending", "running"]).update(
            status="error", failure_reason="error", error="the worker searching it died", finished_at=timezone.now())
        _recount(run)
        from .. import live

        live.send_frame(live.RunChannel.of(run), "run", {"status": RunStatus.FAILED, "error": run.error})
        failed.append(run.pk)
    return failed
