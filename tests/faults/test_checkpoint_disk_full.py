"""The disk full while a checkpoint is written: the write fails saying why and where, the previous checkpoint stays
intact and loadable (every file of a checkpoint is staged, then renamed over the old ones), and no staged or
partial file lingers to hold the space. Through the core writers (a LoRA adapter, an energy head) and through a
training run on a real Celery worker whose checkpoint folder is a small full tmpfs."""

import errno
import json
from pathlib import Path

import pytest
import torch

from jobs.models import Artifact
from prover.serving.model_loading import load_model
from prover.serving.tiny_model import build_tiny_llama
from prover.value import load_energy_head
from tests.conftest import start_worker
from tests.faults.disk import fill, small_disk
from tests.faults.test_disk_full import all_queues_to_ourselves  # noqa: F401  (a fixture)
from tests.training.ebm_helpers import SignalEmbedder, toy_rows, write_rows
from tests.training.sft_helpers import pair_rows, tiny_model_dir, write_jsonl
from tests.web.test_training_runs import wait_finished
from training.ebm.samples import SampleConfig
from training.ebm.train import EbmTrainConfig, train_energy_head
from training.services import checkpoints_of, launch_training
from training.sft import SFTConfig, train_sft
from training.sft.train import read_meta


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sft_settings(data: Path, model: Path | None = None, **overrides) -> dict:
    return {"model_path": str(model or tiny_model_dir()), "data_files": [str(data)], "max_steps": 2, "batch_size": 4,
            "grad_accum": 1, "warmup_steps": 0, "lora_r": 4, "lora_alpha": 8, "max_length": 128,
            "val_fraction": 0.2, "eval_every": 0, "log_every": 1, **overrides}


def assert_full_disk_error(error: str, where: Path) -> None:
    assert "No space left on device" in error, error
    assert str(where) in error, f"the error must name the checkpoint being written ({where}): {error}"


def test_an_adapter_rewritten_on_a_full_disk_keeps_the_previous_one(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(12))
    with small_disk(tmp_path / "disk", 512) as disk:
        out = disk / "adapter"
        first = train_sft(SFTConfig(**sft_settings(data), output_dir=str(out), seed=0))
        before = files_of(out)
        assert {"adapter_model.safetensors", "adapter_config.json", "training_meta.json"} <= set(before)
        fill(disk)
        with pytest.raises(OSError) as caught:
            train_sft(SFTConfig(**sft_settings(data, max_steps=3), output_dir=str(out), seed=1))
        assert caught.value.errno == errno.ENOSPC
        assert_full_disk_error(str(caught.value), out)
        assert files_of(out) == before, "the previous checkpoint must be left exactly as it was"
        assert not list(disk.rglob("*.tmp")), "staged files must not hold the space"
        assert read_meta(out)["steps"] == first.steps == 2
        loaded = load_model(tiny_model_dir(), adapter=out, device="cpu", dtype="fp32", engine="transformers")
        assert loaded.model is not None


def test_an_energy_head_rewritten_on_a_full_disk_keeps_the_previous_one(tmp_path):
    trajectories = write_rows(tmp_path / "toy.parquet", toy_rows(12, width=3, depth=3))

    def config(seed: int) -> EbmTrainConfig:
        return EbmTrainConfig(steps=10, batch_size=8, hidden_dims=(16, 8), dropout=0.0, eval_every=10, log_every=5,
                              seed=seed, samples=SampleConfig(negatives_per_positive=2, val_fraction=0.3))

    with small_disk(tmp_path / "disk", 256) as disk:
        out = disk / "ebm"
        first = train_energy_head([trajectories], SignalEmbedder(), out, config(seed=0))
        before = files_of(out)
        fill(disk)
        with pytest.raises(OSError) as caught:
            train_energy_head([trajectories], SignalEmbedder(), out, config(seed=1))
        assert caught.value.errno == errno.ENOSPC
        assert_full_disk_error(str(caught.value), out)
        assert files_of(out) == before, "the previous checkpoint must be left exactly as it was"
        assert not list(disk.rglob("*.tmp")), "staged files must not hold the space"
        head = load_energy_head(out, expected_embedding_dim=16)
        states, goals = torch.randn(4, 16), torch.randn(4, 16)
        with torch.no_grad():
            assert torch.equal(head(states, goals), first.head.eval()(states, goals))
        assert json.loads((out / "training_meta.json").read_text())["config"]["seed"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_training_run_whose_checkpoint_disk_is_full_fails_saying_so_and_keeps_the_earlier_checkpoint(
        researcher, all_queues_to_ourselves, tmp_path, settings):  # noqa: F811
    model = build_tiny_llama(tmp_path / "tiny")  # in a data root the worker may read
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(12))
    with small_disk(tmp_path / "checkpoints", 512) as disk:
        settings.BURNQED_CHECKPOINT_DIR = disk  # where this process expects the worker's checkpoints
        all_queues_to_ourselves.append(
            start_worker("full-checkpoints", tmp_path / "worker.log", BURNQED_CHECKPOINT_DIR=str(disk)))
        first = wait_finished(launch_training(user=researcher, kind="sft", name="fits", config=sft_settings(data, model)),
                              timeout_s=120)
        assert first.status == "succeeded", first.error
        earlier = Path(checkpoints_of(first).get().path)
        assert earlier.parent == disk
        before = files_of(earlier)
        fill(disk)
        second = wait_finished(launch_training(user=researcher, kind="sft", name="full", config=sft_settings(data, model)),
                               timeout_s=120)
        assert second.status == "failed", second.status
        assert_full_disk_error(second.error, disk)
        assert not checkpoints_of(second).exists(), "a checkpoint that was not written must not be registered"
        assert not [p for p in disk.rglob("*") if p.is_file() and earlier not in p.parents and p.name != "filler"], \
            "nothing of the failed checkpoint may be left looking like one"
        assert files_of(earlier) == before
        assert not list(disk.rglob("*.tmp")), "staged files must not hold the space"
        load_model(model, adapter=earlier, device="cpu", dtype="fp32", engine="transformers")
    assert Artifact.objects.count() == 1
