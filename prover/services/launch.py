"""Launching and cancelling runs."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from jobs import live
from jobs.bulk import insert_rows
from jobs.errors import ServiceError
from jobs.fencing import fence_errors
from jobs.lifecycle import request_stop
from jobs.params import as_id
from jobs.roles import can_launch
from prover.engine.provenance import package_versions
from prover.engine.spec import RunSpec, SpecError
from prover.lean.errors import UnsafeInputError
from prover.lean.safety import check_tactic, name_error

from ..models import Dataset, Run, Theorem, TheoremResult


def deployment_defaults() -> dict[str, Any]:
    """The run settings whose defaults are this deployment's (where its policy server, encoder and Lean are)."""
    return {"policy_url": settings.BURNQED_POLICY_URL, "encoder_url": settings.BURNQED_ENCODER_URL,
            "lean": settings.BURNQED_LEAN}


def validate_spec(config: Any) -> tuple[RunSpec, Dataset, list[int]]:
    """The run spec of a user's config (form, API body, clone), its dataset and theorem ids; or ServiceError
    with every field's problem, the theorem selection's included."""
    try:
        spec, errors = RunSpec.from_mapping(config, deployment=deployment_defaults()), {}
        selection = vars(spec)
    except SpecError as exc:
        spec, errors, selection = None, dict(exc.errors), exc.valid
    for name, messages in fence_errors(selection).items():
        errors.setdefault(name, []).extend(messages)
    for name, messages in probe_tactic_errors(config).items():
        errors.setdefault(name, []).extend(messages)
    dataset, theorem_ids = None, []
    if "dataset" in selection:
        dataset = find_dataset(selection["dataset"])
        if dataset is None:
            errors.setdefault("dataset", []).append(f"no dataset {selection['dataset']!r}")
        elif not {"theorems", "split", "limit"} - set(selection):
            theorem_ids, selection_errors = select_theorems(selection, dataset)
            for name, messages in selection_errors.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ServiceError.from_errors(errors)
    return spec, dataset, theorem_ids


def probe_tactic_errors(config: Any) -> dict[str, list[str]]:
    """The probe tactics a run would send to every state, through the filter the Lean client applies: refused
    here, at launch, so a bad run is never stored only to fail on a worker."""
    search = config.get("search") if isinstance(config, Mapping) else None
    tactics = search.get("probe_tactics") if isinstance(search, Mapping) else None
    errors: dict[str, list[str]] = {}
    for index, tactic in enumerate(tactics if isinstance(tactics, list | tuple) else []):
        if isinstance(tactic, str) and tactic.strip():
            try:
                check_tactic(tactic)
            except UnsafeInputError as exc:
                errors[f"search.probe_tactics[{index}]"] = [f"{exc.token!r} is refused ({exc.reason})"]
    return errors


def find_dataset(value: Any) -> Dataset | None:
    if isinstance(value, Dataset):
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.isdecimal() and value.isascii()):
        number = as_id(value)
        return Dataset.objects.filter(pk=number).first() if number is not None else None
    return Dataset.objects.filter(name=value).first() if isinstance(value, str) else None


def select_theorems(selection: dict[str, Any], dataset: Dataset) -> tuple[list[int], dict[str, list[str]]]:
    """Theorem ids of the run (its `split`, `theorems` and `limit`) in name order, and errors for names the
    dataset does not have."""
    split, names, limit = selection["split"], selection["theorems"], selection["limit"]
    queryset = Theorem.objects.filter(dataset=dataset).order_by("name")
    if split:
        queryset = queryset.filter(split=split)
    errors: dict[str, list[str]] = {}
    if names:
        wanted = list(dict.fromkeys(names))
        found = dict(queryset.filter(name__in=wanted).values_list("name", "pk"))
        missing = [name for name in wanted if name not in found]
        if missing:
            where = f' (split "{split}")' if split else ""
            errors["theorems"] = [f'not in dataset "{dataset.name}"{where}: {", ".join(missing[:10])}'
                                  + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")]
        ids = [found[name] for name in sorted(found)]
    else:
        ids = list(queryset.values_list("pk", flat=True))
    if limit:
        ids = ids[:limit]
    if not ids and not errors:
        errors["dataset"] = [f'no theorems to prove in "{dataset.name}" with these filters']
    return ids, errors


def launch_run(*, user, config: Mapping[str, Any], name: str = "", cloned_from: Run | None = None) -> Run:
    """Validate `config`, store the run with its theorems pending, and dispatch it after the commit."""
    if not can_launch(user):
        raise ServiceError("launching runs needs the researcher or admin role")
    if problem := name_error(name):
        raise ServiceError(f"the run name {problem}", field="name")
    spec, dataset, theorem_ids = validate_spec(config)
    stored = {**spec.to_dict(), "dataset": dataset.name}
    with transaction.atomic():
        run = Run.objects.create(
            name=name.strip() or f"{spec.search.strategy} on {dataset.name}", dataset=dataset, config=stored,
            versions=package_versions(), owner=user, cloned_from=cloned_from, theorems_total=len(theorem_ids),
        )
        insert_rows(
            TheoremResult._meta.db_table, ("run_id", "theorem_id", "status", "failure_reason", "error", "proof",
                                           "proof_tactics", "nodes_expanded", "total_states", "max_depth", "tokens",
                                           "prompt_tokens", "wall_ms", "lean_ms", "generate_ms", "ebm_ms", "stats"),
            [(run.pk, tid, "pending", "", "", "", "[]", 0, 0, 0, 0, 0, 0, 0, 0, 0, "{}") for tid in theorem_ids],
        )
        transaction.on_commit(lambda: _dispatch(run, theorem_ids, spec.chunk_size))
    return run


def _dispatch(run: Run, theorem_ids: list[int], chunk_size: int) -> None:
    from celery import chord

    from ..tasks import finish_run, run_chunk

    key = run.key.hex
    chunks = [theorem_ids[i : i + chunk_size] for i in range(0, len(theorem_ids), chunk_size)]
    chord(run_chunk.si(run.pk, key, number, ids) for number, ids in enumerate(chunks))(finish_run.si(run.pk, key))


def cancel_run(*, user, run: Run) -> Run:
    """Stop a run: queued runs end at once; running ones stop at the next expansion of every worker."""
    if not can_launch(user):
        raise ServiceError("cancelling runs needs the researcher or admin role")
    if request_stop(job=run):
        TheoremResult.objects.filter(run=run, status="pending").update(status="cancelled")
    live.send_frame(live.JobChannel.of(run), "run", {"status": run.status, "cancel_requested": True})
    return run
