"""Training runs through the service on real parts: validation by the loop's own config, a LoRA SFT run on a
real Celery worker (tiny random Llama), its curves stored and its checkpoint registered with lineage."""

import html
import json
import time
from pathlib import Path

import pytest

from jobs.models import Artifact
from prover.services import ServiceError
from training.models import MetricPoint, TrainingRun
from training.services import checkpoints_of, launch_training

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiny_sft_inputs(tmp_path):
    from prover.serving.tiny_model import build_tiny_llama

    model = build_tiny_llama(tmp_path / "tiny")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(
        json.dumps({"name": f"thm{i}", "state_before": f"x : ℝ\nh : x = {i}\n⊢ x + 1 = {i + 1}", "tactic": "linarith"})
        for i in range(8)) + "\n", encoding="utf-8")
    return str(model), str(pairs)


def wait_finished(training: TrainingRun, timeout_s: float = 180) -> TrainingRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        training.refresh_from_db()
        if training.finished:
            return training
        time.sleep(0.2)
    raise AssertionError(f"training {training.pk} still {training.status}")


def test_a_bad_training_config_is_refused_with_its_field_and_nothing_is_stored(researcher, viewer, tiny_sft_inputs):
    model, pairs = tiny_sft_inputs
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="sft", config={"model_path": model, "data_files": [pairs], "max_steps": 0})
    assert caught.value.field == "config.max_steps" and "max_steps must be an integer >= 1" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="sft", config={"model_path": model, "data_files": [pairs], "colour": 1})
    assert caught.value.field == "config.colour"
    with pytest.raises(ServiceError, match="unknown training kind"):
        launch_training(user=researcher, kind="rlhf", config={})
    with pytest.raises(ServiceError, match="researcher or admin"):
        launch_training(user=viewer, kind="sft", config={"model_path": model, "data_files": [pairs]})
    assert not TrainingRun.objects.exists()


def test_sft_runs_on_a_worker_streams_its_curves_and_registers_a_checkpoint(researcher, celery_worker_process,
                                                                          tiny_sft_inputs):
    model, pairs = tiny_sft_inputs
    base = Artifact.objects.create(kind="base", name="tiny", path=model)
    training = launch_training(user=researcher, kind="sft", name="sft on pairs", base_checkpoint=base, config={
        "model_path": model, "data_files": [pairs], "max_steps": 4, "batch_size": 2, "grad_accum": 1,
        "log_every": 1, "eval_every": 2, "val_fraction": 0.25, "max_length": 512})
    training = wait_finished(training)
    assert training.status == "succeeded", training.error
    losses = list(MetricPoint.objects.filter(training_run=training, name="train_loss").order_by("step"))
    assert [p.step for p in losses] == [1, 2, 3, 4]
    assert MetricPoint.objects.filter(training_run=training, name="val_loss").exists()
    checkpoint = checkpoints_of(training).get()
    assert checkpoint.kind == "lora" and checkpoint.parent == base
    assert checkpoint.meta["steps"] == 4 and checkpoint.meta["data_files"]
    assert (Path(checkpoint.path) / "adapter_config.json").exists()


def test_cancel_from_the_api_stops_the_loop_which_keeps_what_it_learnt(researcher, viewer, celery_worker_process,
                                                                       tiny_sft_inputs):
    from rest_framework.test import APIClient

    model, pairs = tiny_sft_inputs
    api = APIClient()
    api.force_authenticate(researcher)
    created = api.post("/api/training-runs/", {"kind": "sft", "name": "long", "config": {
        "model_path": model, "data_files": [pairs], "max_steps": 100000, "batch_size": 2, "grad_accum": 1,
        "log_every": 1, "eval_every": 0, "max_length": 512}}, format="json")
    assert created.status_code == 201, created.content
    training = TrainingRun.objects.get(pk=created.json()["id"])
    deadline = time.monotonic() + 120
    while not MetricPoint.objects.filter(training_run=training).exists():
        assert time.monotonic() < deadline, "the loop never logged a step"
        time.sleep(0.2)
    watcher = APIClient()
    watcher.force_authenticate(viewer)
    assert watcher.post(f"/api/training-runs/{training.pk}/cancel/").status_code == 403
    assert api.post(f"/api/training-runs/{training.pk}/cancel/").status_code == 200
    training = wait_finished(training, timeout_s=60)
    assert training.status == "cancelled", training.error
    assert training.steps_done < 100000
    assert checkpoints_of(training).get().meta["status"] == "cancelled"


def test_the_launch_form_and_the_api_report_the_same_config_errors(client, researcher, tiny_sft_inputs):
    from rest_framework.test import APIClient

    model, pairs = tiny_sft_inputs
    bad = {"model_path": model, "data_files": [pairs], "learning_rate": -1}
    api = APIClient()
    api.force_authenticate(researcher)
    body = api.post("/api/training-runs/", {"kind": "sft", "config": bad}, format="json").json()
    message = body["config.learning_rate"][0]
    client.force_login(researcher)
    assert "model_path" in client.get("/training/new/?kind=sft").content.decode()
    page = client.post("/training/new/", {"kind": "sft", "config": json.dumps(bad)}).content.decode()
    assert html.escape(message) in page
    assert "not JSON" in client.post("/training/new/", {"kind": "sft", "config": "{oops"}).content.decode()
    assert not TrainingRun.objects.exists()


def test_ebm_training_runs_on_a_worker_and_its_head_loads_for_search(researcher, celery_worker_process, tmp_path):
    from prover.serving.tiny_model import build_tiny_llama
    from prover.value import load_energy_head
    from tests.training.ebm_helpers import toy_rows, write_rows

    model = build_tiny_llama(tmp_path / "tiny")
    trajectories = write_rows(tmp_path / "t.parquet", toy_rows(12))
    training = launch_training(user=researcher, kind="ebm", name="ebm on toy", config={
        "trajectory_files": [str(trajectories)], "model_path": str(model), "steps": 6, "batch_size": 4,
        "log_every": 1, "eval_every": 3, "samples": {"negatives_per_positive": 3, "val_fraction": 0.25}})
    training = wait_finished(training)
    assert training.status == "succeeded", training.error
    names = set(MetricPoint.objects.filter(training_run=training).values_list("name", flat=True))
    assert {"train/loss", "ebm/temperature", "val/loss"} <= names
    checkpoint = checkpoints_of(training).get()
    assert checkpoint.kind == "ebm" and checkpoint.meta["stop_reason"] == "completed"
    head = load_energy_head(checkpoint.path)
    assert head.config.embedding_dim == 64  # the tiny model's width: what the search's scorer will check


def test_ebm_settings_are_validated_before_anything_is_stored(researcher, tmp_path):
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="ebm", config={"trajectory_files": [], "model_path": str(tmp_path / "m")})
    assert caught.value.field == "config.trajectory_files"
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="ebm", config={"trajectory_files": [str(tmp_path / "t.parquet")], "encoder_url": "http://127.0.0.1:9"})
    assert caught.value.field == "config.hidden_size"
    with pytest.raises(ServiceError, match="steps must be an int >= 1"):
        launch_training(user=researcher, kind="ebm", config={"trajectory_files": [str(tmp_path / "t.parquet")], "model_path": str(tmp_path / "m"), "steps": 0})
    assert not TrainingRun.objects.exists()


def _launch_long_sft(researcher, tiny_sft_inputs, max_steps: int) -> TrainingRun:
    model, pairs = tiny_sft_inputs
    training = launch_training(user=researcher, kind="sft", name="long", config={
        "model_path": model, "data_files": [pairs], "max_steps": max_steps, "batch_size": 2, "grad_accum": 1,
        "log_every": 1, "eval_every": 0, "max_length": 512})
    deadline = time.monotonic() + 120
    while not MetricPoint.objects.filter(training_run=training).exists():
        assert time.monotonic() < deadline, "the loop never logged a step"
        time.sleep(0.05)
    return training


def _kill(worker) -> None:
    import os
    import signal

    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()


def test_a_training_run_whose_worker_is_killed_is_failed_by_the_reaper(researcher, doomed_worker, tiny_sft_inputs,
                                                                        settings):
    from jobs.reaper import reap_stale_jobs

    training = _launch_long_sft(researcher, tiny_sft_inputs, max_steps=100000)
    _kill(doomed_worker)
    training.refresh_from_db()
    assert training.status == "running" and training.heartbeat_at is not None
    settings.BURNQED_JOB_STALE_S = 3600
    assert reap_stale_jobs() == []  # it beat recently: not yet
    time.sleep(1.5)
    settings.BURNQED_JOB_STALE_S = 1
    assert reap_stale_jobs() == [("training", training.pk)]
    training.refresh_from_db()
    assert training.status == "failed" and "worker died" in training.error and training.finished_at
    assert reap_stale_jobs() == []  # a finished run is never reaped twice


def test_a_redelivered_training_task_takes_over_from_a_dead_worker_once(researcher, doomed_worker, tiny_sft_inputs,
                                                                         tmp_path):
    from tests.conftest import start_worker
    from training.services import execute_training
    from training.tasks import train

    training = _launch_long_sft(researcher, tiny_sft_inputs, max_steps=120)
    _kill(doomed_worker)
    time.sleep(1.5)  # the dead worker's heartbeat goes stale (the heir counts 1 s of silence as death)
    heir = start_worker("heir", tmp_path / "heir.log", BURNQED_JOB_STALE_S="1")
    try:
        train.delay(training.pk, training.key.hex)  # what the broker does with the dead worker's unacked task
        training = wait_finished(training, timeout_s=400)
    finally:
        _kill(heir)
    assert training.status == "succeeded", (tmp_path / "heir.log").read_text()[-3000:]
    assert training.attempts == 2 and training.steps_done == 120
    assert checkpoints_of(training).count() == 1
    # Delivered once more after it finished: nothing happens, nothing is stored twice.
    assert execute_training(training_id=training.pk, key=training.key.hex) == "succeeded"
    training.refresh_from_db()
    assert training.attempts == 2 and checkpoints_of(training).count() == 1


def test_a_second_delivery_while_a_worker_is_alive_on_the_run_does_nothing(researcher, tiny_sft_inputs):
    from django.utils import timezone

    from training.services import execute_training

    model, pairs = tiny_sft_inputs
    training = TrainingRun.objects.create(kind="sft", owner=researcher, status="running", attempts=1,
                                          started_at=timezone.now(), heartbeat_at=timezone.now(),
                                          config={"model_path": model, "data_files": [pairs], "max_steps": 2})
    assert execute_training(training_id=training.pk, key=training.key.hex) == "running"
    training.refresh_from_db()
    assert training.attempts == 1 and not MetricPoint.objects.filter(training_run=training).exists()
    assert not checkpoints_of(training).exists()
