"""Helpers for the joint-training and probe tests: a small run's config on the tiny model and toy data."""

from __future__ import annotations

from pathlib import Path

from tests.training.ebm_helpers import toy_rows, write_rows
from tests.training.sft_helpers import pair_rows, tiny_model_dir, write_jsonl
from training.joint import JointConfig


def toy_trajectories(path: Path, n_theorems: int = 6, prefix: str = "toy") -> Path:
    return write_rows(path, toy_rows(n_theorems, width=3, depth=5, prefix=prefix))


def joint_config(tmp_path: Path, **overrides) -> JointConfig:
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(12))
    trajectories = overrides.pop("trajectory_file", None) or toy_trajectories(tmp_path / "traj.parquet")
    settings = dict(
        model_path=str(tiny_model_dir()), data_files=[str(data)], trajectory_files=[str(trajectories)],
        output_dir=str(tmp_path / "joint"), prompt_format="goal-proofstep", max_steps=20, batch_size=4,
        contrastive_batch_size=6, lr_lora=3e-3, lr_ebm=3e-3, warmup_steps=2, lora_r=8, lora_alpha=16,
        lora_dropout=0.0, head_dropout=0.0, head_hidden_dims=[16, 8], max_length=128, embed_max_length=64,
        val_fraction=0.0, log_every=5, temperature_check_every=5, warmup_checks_after=0, seed=0, dtype="fp32",
        contrastive_weight=0.5,
    )
    settings.update(overrides)
    return JointConfig(**settings)


def lora_tensors(adapter_dir: str) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(adapter_dir) / "adapter_model.safetensors"))
