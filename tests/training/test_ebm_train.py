"""The EBM training loop: learning on a separable toy set, metrics, temperature abort, cancel, checkpoints."""

from __future__ import annotations

import json
import math

import pytest
import torch

from prover.value import load_energy_head
from tests.training.ebm_helpers import SignalEmbedder, toy_rows, write_rows
from training.ebm.embeddings import CachedEmbedder
from training.ebm.samples import SampleConfig, file_sha256
from training.ebm.train import (
    META_FILENAME,
    EbmTrainConfig,
    TemperatureAbortError,
    train_energy_head,
)


def _config(**overrides) -> EbmTrainConfig:
    values = dict(steps=60, batch_size=16, lr=3e-3, hidden_dims=(16, 8, 4), dropout=0.0, eval_every=30,
                  log_every=10, temperature_check_every=50,
                  samples=SampleConfig(negatives_per_positive=4, val_fraction=0.3))
    values.update(overrides)
    return EbmTrainConfig(**values)


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory):
    return write_rows(tmp_path_factory.mktemp("ebm") / "toy.parquet", toy_rows(30, width=3, depth=3))


def test_training_lowers_validation_loss_and_raises_rank1(tmp_path, toy_file):
    before = train_energy_head([toy_file], SignalEmbedder(), tmp_path / "one", _config(steps=1, eval_every=1))
    after = train_energy_head([toy_file], SignalEmbedder(), tmp_path / "many", _config(steps=150, eval_every=150))
    assert before.dataset.validation and after.final_metrics["val/sibling_groups"] > 0
    assert after.final_metrics["val/loss"] < before.final_metrics["val/loss"]
    assert after.final_metrics["val/rank_accuracy"] > before.final_metrics["val/rank_accuracy"]
    assert after.final_metrics["val/sibling_rank1"] >= before.final_metrics["val/sibling_rank1"]
    assert after.final_metrics["val/energy_gap"] > 0
    assert after.stop_reason == "completed" and after.steps_done == 150


def test_metrics_callback_and_each_text_embedded_once(tmp_path, toy_file):
    seen: list[tuple[str, float, int]] = []
    embedder = SignalEmbedder()
    result = train_energy_head([toy_file], embedder, tmp_path / "out", _config(steps=100),
                               on_metric=lambda name, value, step: seen.append((name, value, step)))
    names = {name for name, _, _ in seen}
    assert {"probe/centroid_l2", "probe/linear_probe_acc", "train/loss", "train/rank_accuracy",
            "train/energy_gap", "train/lr", "ebm/temperature", "ebm/temperature_healthy", "val/loss", "val/rank_accuracy",
            "val/energy_gap", "val/sibling_rank1"} <= names
    assert {step for name, _, step in seen if name == "probe/centroid_l2"} == {0, 100}  # before and after
    assert {step for name, _, step in seen if name == "probe/rank1"} == {100}  # the head's, at the end
    assert next(v for n, v, _ in seen if n == "probe/centroid_l2") > 0
    assert [step for name, _, step in seen if name == "ebm/temperature"] == [50, 100]
    assert [step for name, _, step in seen if name == "train/loss"] == list(range(10, 101, 10))
    for name in ("train/samples_per_s", "memory/peak_rss_mb"):  # speed and memory, charted with the rest
        assert [step for n, _, step in seen if n == name] == list(range(10, 101, 10))
        assert all(v > 0 for n, v, _ in seen if n == name)
    assert [step for name, _, step in seen if name == "val/loss"] == [30, 60, 90, 100]
    assert all(math.isfinite(v) for _, v, _ in seen)
    assert 0.1 < result.final_metrics["ebm/temperature"] < 10
    # Every distinct text went to the embedder exactly once; the empty terminal text never did.
    assert embedder.seen and max(embedder.seen.values()) == 1 and "" not in embedder.seen
    # (the probe set's decision points add states of the training split to the dataset's texts)
    assert set(result.dataset.texts()) <= set(embedder.seen)


def test_cached_embedder_embeds_each_text_once():
    inner = SignalEmbedder(dim=8)
    cached = CachedEmbedder(inner, batch_size=2)
    first = cached.embed(["a", "b", "a", "c"])
    second = cached.embed(["c", "a", "d"])
    assert first.shape == (4, 8) and second.shape == (3, 8)
    assert torch.equal(first[0], second[1]) and torch.equal(first[0], first[2])
    assert dict(inner.seen) == {"a": 1, "b": 1, "c": 1, "d": 1} and cached.texts_embedded == 4
    with pytest.raises(ValueError, match="empty"):
        cached.embed(["x", ""])
    assert cached.embed([]).shape == (0, 8)


@pytest.mark.parametrize("log_tau", [math.log(10.0) + 2.0, math.log(0.1) - 2.0], ids=["ceiling", "floor"])
def test_temperature_pinned_at_the_clamp_aborts(tmp_path, toy_file, log_tau):
    from prover.value import EnergyHeadConfig, GoalConditionedEnergyHead

    head = GoalConditionedEnergyHead(EnergyHeadConfig(embedding_dim=16, hidden_dims=(16, 8, 4)))
    with torch.no_grad():
        head.log_temperature.fill_(log_tau)
    temps: list[tuple[float, int]] = []
    config = _config(steps=40, temperature_check_every=5, temperature_patience_steps=10)
    with pytest.raises(TemperatureAbortError, match="clamp") as caught:
        train_energy_head([toy_file], SignalEmbedder(), tmp_path / "out", config, head=head,
                          on_metric=lambda n, v, s: temps.append((v, s)) if n == "ebm/temperature" else None)
    # Pinned from the first check (step 5); aborted once it had sat there for the patience (10 steps).
    assert caught.value.step == 15 and [s for _, s in temps] == [5, 10, 15]
    assert caught.value.result.stop_reason == "temperature_pinned"
    meta = json.loads((tmp_path / "out" / META_FILENAME).read_text())
    assert meta["stop_reason"] == "temperature_pinned" and meta["steps_done"] == 15
    assert not (tmp_path / "out" / "energy_head.safetensors").exists()


def test_checkpoint_round_trip_and_meta(tmp_path, toy_file):
    config = _config(steps=40, checkpoint_every=20)
    result = train_energy_head([toy_file], SignalEmbedder(), tmp_path / "out", config)
    assert result.checkpoint_dir == tmp_path / "out"
    head = load_energy_head(tmp_path / "out", expected_embedding_dim=16, expected_backbone_id="toy-signal")
    states, goals = torch.randn(5, 16), torch.randn(5, 16)
    with torch.no_grad():
        assert torch.allclose(head(states, goals), result.head.eval()(states, goals))
    meta = json.loads((tmp_path / "out" / META_FILENAME).read_text())
    assert meta["stop_reason"] == "completed" and meta["steps_done"] == 40 and meta["backbone_id"] == "toy-signal"
    assert meta["data"] == [{"path": str(toy_file), "sha256": file_sha256(toy_file), "rows": len(toy_rows(30)),
                             "labelled_rows": len(toy_rows(30))}]
    assert meta["split"]["val_fraction"] == 0.3 and meta["split"]["validation_theorem_names"]
    assert meta["final_metrics"]["val/loss"] == pytest.approx(result.final_metrics["val/loss"])
    assert meta["config"]["steps"] == 40 and meta["head_config"]["hidden_dims"] == [16, 8, 4]
    step_meta = json.loads((tmp_path / "out" / "step_20" / META_FILENAME).read_text())
    assert step_meta["steps_done"] == 20
    load_energy_head(tmp_path / "out" / "step_20")


def test_cancellation_between_steps(tmp_path, toy_file):
    logged: list[int] = []
    result = train_energy_head([toy_file], SignalEmbedder(), tmp_path / "out", _config(steps=50),
                               on_metric=lambda name, value, step: logged.append(step) if name == "train/loss" else None,
                               should_cancel=lambda: bool(logged))
    # The flag is read before each step: the step that logged at 10 was the last to run.
    assert result.stop_reason == "cancelled" and result.steps_done == 10 and result.checkpoint_dir is None
    assert json.loads((tmp_path / "out" / META_FILENAME).read_text())["stop_reason"] == "cancelled"
    assert not (tmp_path / "out" / "energy_head.safetensors").exists()


def test_config_validation():
    with pytest.raises(ValueError, match="steps"):
        EbmTrainConfig(steps=0)
    with pytest.raises(ValueError, match="lr"):
        EbmTrainConfig(lr=-1.0)
    with pytest.raises(ValueError, match="hidden_dims"):
        EbmTrainConfig(hidden_dims=(8, 0))


def test_cancellation_while_embedding(tmp_path, toy_file):
    embedder = SignalEmbedder()
    result = train_energy_head([toy_file], embedder, tmp_path / "out", _config(embed_batch_size=1),
                               should_cancel=lambda: bool(embedder.seen))
    assert result.stop_reason == "cancelled" and result.steps_done == 0 and result.head is None
    assert sum(embedder.seen.values()) == 8  # one chunk of 8 * embed_batch_size texts, then the flag was seen
    assert json.loads((tmp_path / "out" / META_FILENAME).read_text())["stop_reason"] == "cancelled"


def test_depth_four_rank1_is_reported(tmp_path):
    deep = write_rows(tmp_path / "deep.parquet", toy_rows(20, width=2, depth=5))
    result = train_energy_head([deep], SignalEmbedder(), tmp_path / "out", _config(steps=10, eval_every=10))
    assert 0.0 <= result.final_metrics["val/sibling_rank1_d4plus"] <= 1.0
