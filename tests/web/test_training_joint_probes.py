"""Joint and probes runs through the service on a real Celery worker: validation by the loops' configs, both
losses and the probes streamed as metric points, the adapter, its head and a built probe set registered with
their lineage; the probe set reused by the next probes run."""

import json
from pathlib import Path

import pytest

from jobs.models import Artifact
from prover.services import ServiceError
from tests.web.test_training_runs import wait_finished
from training.models import MetricPoint, TrainingRun
from training.services import launch_training

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiny_inputs(tmp_path):
    from prover.serving.tiny_model import build_tiny_llama
    from tests.training.ebm_helpers import toy_rows, write_rows

    model = build_tiny_llama(tmp_path / "tiny")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(
        json.dumps({"name": f"thm{i}", "state_before": f"x : ℝ\nh : x = {i}\n⊢ x + 1 = {i + 1}", "tactic": "linarith"})
        for i in range(8)) + "\n", encoding="utf-8")
    trajectories = write_rows(tmp_path / "t.parquet", toy_rows(6, width=3, depth=5))
    sft_data = Artifact.objects.create(kind="sft_data", name="pairs", path=str(pairs))
    traj = Artifact.objects.create(kind="trajectories", name="toy search", path=str(trajectories))
    return str(model), sft_data, traj


def names_of(training):
    return set(MetricPoint.objects.filter(training_run=training).values_list("name", flat=True))


def test_joint_then_probes_on_a_worker(researcher, celery_worker_process, tiny_inputs):
    from prover.value import load_energy_head

    model, sft_data, traj = tiny_inputs
    base = Artifact.objects.create(kind="base", name="tiny", path=model)
    joint = launch_training(user=researcher, kind="joint", name="joint", base_checkpoint=base, inputs=[sft_data, traj],
                            config={"model_path": model, "max_steps": 4, "batch_size": 2, "contrastive_batch_size": 4,
                                    "log_every": 1, "probe_every": 2, "val_fraction": 0.0, "max_length": 256,
                                    "lora_r": 4, "lora_alpha": 8, "head_hidden_dims": [16, 8]})
    assert joint.config["trajectory_files"] == [traj.path] and len(joint.config["data_files"]) == 2
    joint = wait_finished(joint)
    assert joint.status == "succeeded", joint.error
    assert {"joint/sft_loss", "joint/infonce_loss", "ebm/temperature", "probe/centroid_l2",
            "probe/linear_probe_acc"} <= names_of(joint)
    assert [p.step for p in MetricPoint.objects.filter(training_run=joint, name="joint/infonce_loss").order_by("step")] \
        == [1, 2, 3, 4]
    adapter = Artifact.objects.get(producer_kind="training", producer_id=joint.pk, kind="lora")
    head = Artifact.objects.get(producer_kind="training", producer_id=joint.pk, kind="ebm")
    assert adapter.parent == base and head.parent == adapter
    assert (Path(adapter.path) / "adapter_config.json").is_file()
    assert load_energy_head(head.path).config.embedding_dim == 64  # what an eval's ebm_path loads

    probes = launch_training(user=researcher, kind="probes", name="probes", base_checkpoint=adapter, inputs=[traj],
                             config={"model_path": model, "adapter": adapter.path, "heads": {"C": head.path}})
    probes = wait_finished(probes)
    assert probes.status == "succeeded", probes.error
    values = dict(MetricPoint.objects.filter(training_run=probes).values_list("name", "value"))
    assert {"probe/centroid_l2", "probe/linear_probe_acc", "probe/rank1_depth4", "probe/C/rank1_depth4",
            "probe/rank1_depth4_random"} <= set(values)
    probe_set = Artifact.objects.get(producer_kind="training", producer_id=probes.pk, kind="probe_set")
    assert probe_set.meta["positive"] > 0 and Path(probe_set.path).is_file()

    again = launch_training(user=researcher, kind="probes", name="probes again", base_checkpoint=adapter,
                            config={"model_path": model, "adapter": adapter.path, "probe_set": probe_set.path})
    again = wait_finished(again)
    assert again.status == "succeeded", again.error
    same = dict(MetricPoint.objects.filter(training_run=again).values_list("name", "value"))
    assert same["probe/centroid_l2"] == pytest.approx(values["probe/centroid_l2"], rel=1e-5)  # same set, same policy
    assert not Artifact.objects.filter(producer_kind="training", producer_id=again.pk).exists()


def test_joint_and_probes_settings_are_refused_with_their_field(researcher, tiny_inputs):
    model, sft_data, traj = tiny_inputs
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="joint", inputs=[sft_data], config={"model_path": model})
    assert caught.value.field == "config.trajectory_files"
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="joint", inputs=[sft_data, traj],
                        config={"model_path": model, "contrastive_weight": -1})
    assert caught.value.field == "config.contrastive_weight"
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="probes", config={"model_path": model})
    assert caught.value.field == "config.probe_set"
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="probes", inputs=[traj], config={"model_path": model, "heads": {"A": "/nope"}})
    assert caught.value.field == "config.heads"
    assert not TrainingRun.objects.exists()
