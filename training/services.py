"""Training runs: launch, cancel, execute (on a GPU worker). Thin over the loops in training/loops.py."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from jobs import live
from jobs.errors import ServiceError
from jobs.fencing import fence_errors
from jobs.lifecycle import Heartbeat, claim, request_stop, settle
from jobs.models import Artifact, JobStatus
from jobs.roles import can_launch
from prover.engine.provenance import package_versions
from prover.lean.safety import name_error

from .bounds import bound_errors
from .inputs import InputError, loop_files
from .loops import LoopConfigError, loop_for
from .models import TrainingRun
from .recording import MetricRecorder

log = logging.getLogger(__name__)


def output_dir_of(training: TrainingRun) -> str:
    return str(settings.BURNQED_CHECKPOINT_DIR / f"{training.kind}-{training.pk}-{training.key.hex[:12]}")


def launch_training(*, user, kind: str, config: Mapping[str, Any], name: str = "",
                    base_checkpoint: Artifact | None = None, inputs: Sequence[Artifact] = ()) -> TrainingRun:
    """Validate `config` with the loop's own config class, store the run, queue it on `gpu` after commit.

    `inputs` are picked artifacts (trajectories, SFT data): they become the loop's file settings."""
    if not can_launch(user):
        raise ServiceError("launching training needs the researcher or admin role")
    loop = loop_for_or_error(kind)
    if problem := name_error(name):
        raise ServiceError(f"the training run name {problem}", field="name")
    config = dict(config)
    if refused := {**fence_errors(config, prefix="config."), **bound_errors(config, prefix="config.")}:
        raise ServiceError.from_errors(refused)
    if inputs:
        try:
            files = loop_files(kind, list(inputs))
        except InputError as exc:
            raise ServiceError(str(exc), field="inputs") from None
        for key, paths in files.items():
            config[key] = [*config.get(key, []), *paths]
    with transaction.atomic():
        training = TrainingRun.objects.create(kind=kind, name=name.strip(), config=config, owner=user,
                                              base_checkpoint=base_checkpoint, versions=package_versions())
        training.inputs.set(inputs)
        try:
            loop.build(training.config, output_dir_of(training))
        except LoopConfigError as exc:
            transaction.set_rollback(True)
            raise ServiceError(str(exc), field=f"config.{exc.field}" if exc.field else "config") from None
        from .tasks import train

        transaction.on_commit(lambda: train.delay(training.pk, training.key.hex))
    return training


def loop_for_or_error(kind: str):
    try:
        return loop_for(kind)
    except LoopConfigError as exc:
        raise ServiceError(str(exc), field="kind") from None


def cancel_training(*, user, training: TrainingRun) -> TrainingRun:
    """The loop stops before its next optimizer step and still saves what it learnt; the run ends cancelled."""
    if not can_launch(user):
        raise ServiceError("cancelling training needs the researcher or admin role")
    request_stop(job=training)
    live.send_frame(live.JobChannel.of(training), "status", {"status": training.status})
    return training


def execute_training(*, training_id: int, key: str) -> str:
    """Run the loop on this worker; metrics stream live, the result becomes a checkpoint artifact. Never raises.

    A redelivered task (its worker died mid-run) takes the run over and trains it again from the start, once
    the dead worker's heartbeat has gone stale; a delivery that finds the run finished, or alive on another
    worker, does nothing.
    """
    training = TrainingRun.objects.filter(pk=training_id, key=key).select_related("base_checkpoint").first()
    if training is None:
        return "unknown training run"  # a message older than this database
    channel = live.JobChannel.of(training)
    if training.finished or live.cancel_requested(channel) or not claim(job=training):
        return training.status
    live.send_frame(channel, "status", {"status": JobStatus.RUNNING, "attempt": training.attempts})
    recorder = MetricRecorder(training)
    try:
        with Heartbeat(training):
            loop = loop_for(training.kind)
            config = loop.build(training.config, output_dir_of(training))
            result = loop.run(config, on_metric=recorder, cancel=lambda: live.cancel_requested(channel))
        recorder.close()
        Artifact.objects.update_or_create(path=result.output_dir, defaults={
            "kind": loop.checkpoint_kind, "name": f"{training.kind}-{training.pk}", "parent": training.base_checkpoint,
            "producer_kind": training.channel_kind, "producer_id": training.pk,
            "meta": result.meta})
        settle(job=training, to=JobStatus.CANCELLED if result.status == "cancelled" else JobStatus.SUCCEEDED)
    except Exception as exc:
        log.exception("training run %s failed", training_id)
        recorder.close()
        settle(job=training, to=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
    training.refresh_from_db()
    live.send_frame(channel, "status", {"status": training.status, "error": training.error})
    return training.status


def checkpoints_of(training: TrainingRun):
    return Artifact.made_by(training).order_by("created_at")
