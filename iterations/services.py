"""Launching, advancing and cancelling iterations: the chain of jobs of expert iteration.

`advance_iteration` is the one place that moves an iteration on. It is idempotent and safe to call at any time
(when a step's job finishes, from the periodic beat, after a restart): under a row lock it looks at the first
step that is not finished, collects what a finished job produced, launches the job of a pending step, and
otherwise waits. A step whose job failed is launched again once (a killed worker costs the step it was in,
never the steps before it); a second failure fails the iteration with the job's error, and `resume_iteration`
starts from that step again.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from jobs import live
from jobs.errors import ServiceError
from jobs.fencing import fence_errors
from jobs.lifecycle import request_stop, settle, transition
from jobs.models import Artifact, JobStatus
from jobs.registry import model_of
from jobs.roles import can_launch
from prover.engine.provenance import package_versions
from prover.engine.spec import RunSpec, SpecError
from prover.lean.safety import name_error
from prover.models import Theorem
from prover.services import cancel_run
from prover.services.launch import deployment_defaults, find_dataset, probe_tactic_errors
from training.bounds import bound_errors
from training.services import cancel_training

from . import plan as steps
from .launching import collect_outputs, earlier_trajectories, launch_step, missing_kind
from .models import Iteration, IterationStep
from .spec import IterationSpec

log = logging.getLogger(__name__)
MAX_STEP_ATTEMPTS = 2
Status = IterationStep.Status


def fenced_errors(config: Any, values: Mapping[str, Any]) -> dict[str, list[str]]:
    """The launch fences (docs/security.md) on the settings an iteration hands to the runs and training runs it
    will launch later: refused now, not when a step starts on a worker."""
    errors = fence_errors({"model_path": values.get("model_path", "")})
    for key in ("run", "sft", "joint", "ebm"):
        settings_of = values.get(key)
        if isinstance(settings_of, Mapping):
            errors.update(fence_errors(settings_of, prefix=f"{key}."))
            if key != "run":
                errors.update(bound_errors(settings_of, prefix=f"{key}."))
    for key in ("search", "train_search"):
        raw = config.get(key) if isinstance(config, Mapping) else None
        for name, messages in probe_tactic_errors({"search": raw}).items():
            errors[name.replace("search.", f"{key}.", 1)] = messages
    return errors


def validate_iteration(config: Any) -> IterationSpec:
    """The iteration spec of a user's config, its datasets and artifacts checked; ServiceError with every problem."""
    try:
        spec, errors, valid = IterationSpec.from_mapping(config), {}, None
    except SpecError as exc:
        spec, errors, valid = None, dict(exc.errors), exc.valid
    values = vars(spec) if spec is not None else valid
    for name, messages in fenced_errors(config, values).items():
        errors.setdefault(name, []).extend(messages)
    names: dict[str, set[str]] = {}
    for side in ("train", "eval"):
        key = f"{side}_dataset"
        if key not in values:
            continue
        dataset = find_dataset(values[key])
        if dataset is None:
            errors.setdefault(key, []).append(f"no dataset {values[key]!r}")
            continue
        theorems = Theorem.objects.filter(dataset=dataset).order_by("name")
        if values.get(f"{side}_split"):
            theorems = theorems.filter(split=values[f"{side}_split"])
        names[side] = set(theorems.values_list("name", flat=True)[: values.get(f"{side}_limit")])
        if not names[side]:
            errors.setdefault(key, []).append(f'no theorems in "{dataset.name}" with these filters')
    if len(names) == 2 and (shared := sorted(names["train"] & names["eval"])):
        errors.setdefault("eval_dataset", []).append(
            f"shares {len(shared)} theorem name(s) with the training theorems ({', '.join(shared[:5])}): "
            "held-out theorems are never trained on")
    for key, kinds in (("seed_data", (Artifact.Kind.SFT_DATA,)), ("base_adapter", (Artifact.Kind.LORA,))):
        ids = values.get(key)
        ids = [ids] if isinstance(ids, int) else list(ids or ())
        found = set(Artifact.objects.filter(pk__in=ids, kind__in=kinds).values_list("pk", flat=True))
        if missing := [i for i in ids if i not in found]:
            errors.setdefault(key, []).append(f"no {'/'.join(kinds)} artifact {', '.join(map(str, missing))}")
    errors.update(_run_setting_errors(values.get("run")))
    if spec is not None and (kind := missing_kind(steps.TRAIN_POLICY, spec)):
        errors.setdefault("policy_training", []).append(f"the training kind {kind!r} is not installed on this service")
    if errors:
        raise ServiceError.from_errors(errors)
    return spec


def _run_setting_errors(run: Any) -> dict[str, list[str]]:
    """The run settings checked now as every run of the iteration will check them, keyed `run.<setting>`, so a
    typo fails the launch instead of the first evaluation minutes later."""
    if not isinstance(run, Mapping):
        return {}
    try:
        RunSpec.from_mapping({**run, "dataset": "checked separately"}, deployment=deployment_defaults())
    except SpecError as exc:
        return {f"run.{key}": list(messages) for key, messages in exc.errors.items()}
    return {}


def launch_iteration(*, user, config: Mapping[str, Any], name: str = "", parent: Iteration | None = None) -> Iteration:
    """Validate `config`, store the iteration, and start advancing it after the commit."""
    if not can_launch(user):
        raise ServiceError("launching iterations needs the researcher or admin role")
    if problem := name_error(name):
        raise ServiceError(f"the iteration name {problem}", field="name")
    spec = validate_iteration(config)
    with transaction.atomic():
        iteration = Iteration.objects.create(
            name=name.strip(), config=spec.to_dict(), owner=user, versions=package_versions(), parent=parent,
            number=parent.number + 1 if parent else 0)
        transaction.on_commit(lambda: _schedule(iteration.pk))
    return iteration


def _schedule(iteration_id: int) -> None:
    from .tasks import advance_iteration

    advance_iteration.delay(iteration_id)


def on_job_finished(sender, job, **kwargs) -> None:
    """A job ended: the iterations waiting on it move on once the change is committed."""
    waiting = IterationStep.objects.filter(job_kind=job.channel_kind, job_id=job.pk, status=Status.RUNNING)
    for iteration_id in set(waiting.values_list("iteration_id", flat=True)):
        transaction.on_commit(lambda pk=iteration_id: _schedule(pk))


def advance_iteration(*, iteration_id: int) -> str:
    with transaction.atomic():
        iteration = Iteration.objects.select_for_update().filter(pk=iteration_id).first()
        if iteration is None or iteration.finished:
            return iteration.status if iteration else "unknown iteration"
        if iteration.status == JobStatus.QUEUED:
            transition(job=iteration, to=JobStatus.RUNNING)
            _plan_steps(iteration)
        Iteration.objects.filter(pk=iteration.pk).update(heartbeat_at=timezone.now())
        for step in iteration.steps.order_by("position"):
            if step.finished:
                continue
            if step.status == Status.RUNNING and not _settle_step(iteration, step):
                return _announce(iteration)  # its job is still working
            if iteration.finished:
                return _announce(iteration)
            if step.status == Status.PENDING:
                if iteration.cancel_requested:
                    settle(job=iteration, to=JobStatus.CANCELLED, error="cancelled by request")
                    return _announce(iteration)
                _launch_step(iteration, step)
                if step.status == Status.RUNNING or iteration.finished:
                    return _announce(iteration)  # else skipped, or a measurement that could not launch: go on
        settle(job=iteration, to=JobStatus.SUCCEEDED)
        _continue_chain(iteration)
        return _announce(iteration)


def _announce(iteration: Iteration) -> str:
    iteration.refresh_from_db()
    live.send_frame(live.JobChannel.of(iteration), "steps", {
        "status": iteration.status, "error": iteration.error,
        "steps": list(iteration.steps.order_by("position").values("position", "name", "status", "job_kind", "job_id",
                                                                   "attempts", "error"))})
    return iteration.status


def _plan_steps(iteration: Iteration) -> None:
    spec = IterationSpec.from_mapping(iteration.config)
    situation = steps.Situation(has_parent=iteration.parent is not None,
                                has_trajectories=bool(earlier_trajectories(iteration)))
    IterationStep.objects.bulk_create(IterationStep(iteration=iteration, position=i, name=name)
                                      for i, name in enumerate(steps.plan(spec, situation)))


def _settle_step(iteration: Iteration, step: IterationStep) -> bool:
    """Look at a running step's job: False while it works; else record its outcome (True)."""
    job = model_of(step.job_kind)._default_manager.filter(pk=step.job_id).first()
    if job is not None and not job.finished:
        return False
    now = timezone.now()
    if job is not None and job.status == JobStatus.SUCCEEDED:
        outputs = collect_outputs(step.name, job)
        step.outputs = outputs
        step.status, step.finished_at, step.error = Status.DONE, now, ""
        step.save(update_fields=["outputs", "status", "finished_at", "error"])
        step.artifacts.set(Artifact.objects.filter(pk__in=[v for v in outputs.get("artifacts", {}).values() if v]))
        return True
    error = job.error if job is not None else "its job is gone"
    if iteration.cancel_requested or (job is not None and job.status == JobStatus.CANCELLED):
        step.status, step.finished_at, step.error = Status.FAILED, now, "cancelled"
        step.save(update_fields=["status", "finished_at", "error"])
        settle(job=iteration, to=JobStatus.CANCELLED, error="cancelled by request")
    elif step.attempts < MAX_STEP_ATTEMPTS:
        log.warning("%s: %s failed (%s); launching it again", iteration, step.name, error)
        step.status, step.error = Status.PENDING, error
        step.save(update_fields=["status", "error"])
    else:
        step.status, step.finished_at, step.error = Status.FAILED, now, error
        step.save(update_fields=["status", "finished_at", "error"])
        if step.name in steps.MEASUREMENTS:  # a figure that could not be taken: shown as missing, with why
            log.warning("%s: %s failed (%s); the chain goes on without its figures", iteration, step.name, error)
        else:
            settle(job=iteration, to=JobStatus.FAILED, error=f"step {step.position} ({step.name}) failed: {error}")
    return True


def _continue_chain(iteration: Iteration) -> None:
    spec = IterationSpec.from_mapping(iteration.config)
    chain = iteration.chain()
    if len(chain) < spec.chain_length and not iteration.children.exists():  # a re-measured one has its child
        launch_iteration(user=iteration.owner, config=iteration.config, parent=iteration,
                         name=_next_name(iteration))


def _next_name(iteration: Iteration) -> str:
    return f"{iteration.name.rsplit(' · ', 1)[0]} · {iteration.number + 1}" if iteration.name else ""


def resume_iteration(*, user, iteration: Iteration) -> Iteration:
    """A failed iteration again from its first unfinished step (the steps before it are kept); a succeeded one
    whose measurements failed (e.g. too few states for a probe set at the time) takes them again, now that
    later iterations may have searched more."""
    if not can_launch(user):
        raise ServiceError("resuming iterations needs the researcher or admin role")
    with transaction.atomic():
        iteration = Iteration.objects.select_for_update().get(pk=iteration.pk)
        remeasure = iteration.status == JobStatus.SUCCEEDED and iteration.steps.filter(
            status=Status.FAILED, name__in=steps.MEASUREMENTS).exists()
        if iteration.status != JobStatus.FAILED and not remeasure:
            raise ServiceError(f"iteration {iteration.pk} is {iteration.status}: only a failed one resumes "
                               "(or a succeeded one with failed measurements)")
        # started_at too: a resumed step's wall time is that of its new attempt, not the hours in between
        iteration.steps.filter(status=Status.FAILED).update(status=Status.PENDING, attempts=0, finished_at=None,
                                                             started_at=None)
        Iteration.objects.filter(pk=iteration.pk).update(status=JobStatus.RUNNING, error="", finished_at=None)
        transaction.on_commit(lambda: _schedule(iteration.pk))
    iteration.refresh_from_db()
    return iteration


def cancel_iteration(*, user, iteration: Iteration) -> Iteration:
    """Stop an iteration: its running step's job is cancelled, no further step starts."""
    if not can_launch(user):
        raise ServiceError("cancelling iterations needs the researcher or admin role")
    request_stop(job=iteration)
    for step in iteration.steps.filter(status=Status.RUNNING):
        job = model_of(step.job_kind)._default_manager.filter(pk=step.job_id).first()
        if job is None or job.finished:
            continue
        if step.job_kind == "run":
            cancel_run(user=user, run=job)
        else:
            cancel_training(user=user, training=job)
    transaction.on_commit(lambda: _schedule(iteration.pk))
    return iteration


def _launch_step(iteration: Iteration, step: IterationStep) -> None:
    """Launch the step's job; a step whose kind is not installed is skipped, one that cannot launch fails the
    iteration with the reason (it never stays pending forever)."""
    spec = IterationSpec.from_mapping(iteration.config)
    if kind := missing_kind(step.name, spec):
        step.status, step.finished_at = Status.SKIPPED, timezone.now()
        step.error = f"skipped: the training kind {kind!r} is not installed on this service"
        step.save(update_fields=["status", "finished_at", "error"])
        return
    try:
        with transaction.atomic():
            job = launch_step(iteration, step.name)
    except ServiceError as exc:
        step.status, step.finished_at, step.error = Status.FAILED, timezone.now(), exc.message
        step.save(update_fields=["status", "finished_at", "error"])
        if step.name not in steps.MEASUREMENTS:  # a figure that cannot be taken (e.g. no trajectories) is missing
            settle(job=iteration, to=JobStatus.FAILED, error=f"step {step.position} ({step.name}) could not "
                                                              f"launch: {exc.message}")
        return
    step.status, step.job_kind, step.job_id = Status.RUNNING, job.channel_kind, job.pk
    step.attempts += 1
    step.started_at = step.started_at or timezone.now()
    step.save(update_fields=["status", "job_kind", "job_id", "attempts", "started_at"])
