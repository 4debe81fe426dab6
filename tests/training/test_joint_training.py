"""The joint loop on a tiny model: both losses fall, InfoNCE reaches the LoRA weights (and with lambda 0 it
does not), the negative mix, flags, cancellation, and checkpoints that reload to the same outputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from tests.training.ebm_helpers import toy_rows, write_rows
from tests.training.joint_helpers import joint_config, lora_tensors
from training.ebm.samples import SampleConfig, build_samples
from training.joint import JointConfigError, contrastive_rows, train_joint
from training.joint.train import HEAD_DIR, META_FILE


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("joint")
    metrics: list[tuple[str, float, int]] = []
    config = joint_config(tmp_path, max_steps=40, probe_every=20)
    result = train_joint(config, on_metric=lambda n, v, s: metrics.append((n, v, s)))
    return config, result, metrics


def series(metrics, name):
    return [v for n, v, _ in metrics if n == name]


def test_both_parts_of_the_joint_loss_fall(trained):
    _, result, metrics = trained
    sft, nce = series(metrics, "joint/sft_loss"), series(metrics, "joint/infonce_loss")
    assert len(sft) == len(nce) == 8
    assert sft[-1] < 0.8 * sft[0], sft
    assert nce[-1] < nce[0], nce
    assert result.status == "completed" and result.steps == 40
    assert series(metrics, "ebm/temperature") and series(metrics, "tokens_per_s")


def test_probes_stream_during_and_at_the_end(trained):
    _, _, metrics = trained
    steps = sorted({s for n, _, s in metrics if n == "probe/centroid_l2"})
    assert steps == [20, 40]
    names = {n for n, _, _ in metrics}
    assert {"probe/linear_probe_acc", "probe/rank1_depth4", "probe/rank1", "probe/effective_dim"} <= names


def test_adapter_and_head_are_saved_separately(trained):
    config, result, _ = trained
    out = Path(result.output_dir)
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert (out / HEAD_DIR / "energy_head.safetensors").is_file()
    meta = json.loads((out / META_FILE).read_text())
    assert meta["kind"] == "joint" and meta["steps"] == 40 and meta["head_dir"] == str(out / HEAD_DIR)
    # Left unset, activations are checkpointed on a CPU (the contrastive rows would otherwise fill its RAM).
    assert config.gradient_checkpointing is None and meta["config"]["gradient_checkpointing"] is True
    assert json.loads((out / HEAD_DIR / META_FILE).read_text())["adapter"] == str(out)


def test_checkpoints_reload_to_identical_outputs(trained):
    """The probes of the saved adapter + head, loaded fresh the way a probes run loads them, equal the
    probes the loop computed on its live model at the last step."""
    from prover.value import load_energy_head
    from training.ebm.embeddings import InProcessEmbedder
    from training.probes import build_probe_set, compute_probes

    config, result, metrics = trained
    embedder = InProcessEmbedder(config.model_path, dtype="fp32", adapter=result.output_dir)
    head = load_energy_head(result.head_dir)
    probe_set = build_probe_set(config.trajectory_files, seed=config.seed)
    again = compute_probes(embedder.embed, probe_set, heads={"": head})
    live = {n: v for n, v, s in metrics if s == 40 and n.startswith("probe/")}
    assert set(live) == set(again)
    for name, value in live.items():
        assert again[name] == pytest.approx(value, rel=1e-4, abs=1e-5), name


def test_infonce_alone_changes_the_lora_weights(tmp_path):
    result = train_joint(joint_config(tmp_path, sft_weight=0.0, contrastive_weight=1.0, weight_decay=0.0, max_steps=3))
    b = {k: v for k, v in lora_tensors(result.output_dir).items() if "lora_B" in k}
    assert b and max(float(t.abs().max()) for t in b.values()) > 0  # LoRA B starts at zero


def test_with_lambda_zero_the_contrastive_stream_never_reaches_lora(tmp_path):
    other = write_rows(tmp_path / "other.parquet", toy_rows(6, width=2, depth=4, prefix="different"))
    a = train_joint(joint_config(tmp_path / "a", contrastive_weight=0.0, max_steps=4))
    b = train_joint(joint_config(tmp_path / "b", contrastive_weight=0.0, max_steps=4, trajectory_file=other))
    c = train_joint(joint_config(tmp_path / "c", contrastive_weight=1.0, max_steps=4))
    ta, tb, tc = lora_tensors(a.output_dir), lora_tensors(b.output_dir), lora_tensors(c.output_dir)
    for key in ta:
        assert torch.allclose(ta[key], tb[key], atol=1e-6), key
    assert any(not torch.allclose(ta[key], tc[key], atol=1e-4) for key in ta)


def test_negatives_follow_the_60_30_10_mix(tmp_path):
    path = write_rows(tmp_path / "wide.parquet", toy_rows(20, width=6, depth=6))
    samples = build_samples([path], SampleConfig(negatives_per_positive=3, hard_ratio=0.6, medium_ratio=0.3,
                                                  val_fraction=0.0, seed=3, stochastic_tiers=True))
    kinds = Counter(k for s in samples.train for k in s.kinds)
    total = sum(kinds.values())
    assert total == 3 * len(samples.train) >= 300
    for kind, share in (("hard", 0.6), ("medium", 0.3), ("easy", 0.1)):
        # binomial standard deviation sqrt(p(1-p)/n) is under 0.03 here; 4 of them is a wide margin
        assert abs(kinds[kind] / total - share) < 4 * (share * (1 - share) / total) ** 0.5 + 1e-9, kinds
    grad, detached, _, _ = contrastive_rows(samples.train[:8])
    easy = {t for s in samples.train[:8] for t, k in zip(s.negatives, s.kinds, strict=True) if k == "easy"}
    assert easy - set(grad) <= set(detached) and not set(detached) & set(grad)


def test_flags_name_the_suggested_lambda(tmp_path):
    metrics = []
    train_joint(joint_config(tmp_path, max_steps=5, lr_lora=1e-6, lr_ebm=1e-6),
                on_metric=lambda n, v, s: metrics.append((n, v, s)))
    flags = {n: v for n, v, _ in metrics if n.startswith("flag/")}
    # A barely trained tiny model: SFT loss well above 0.5, and random 64-wide embeddings sit close together.
    assert flags["flag/sft_loss_high"] == 1.0
    assert flags["flag/suggested_lambda"] in (0.03, 0.3)


def test_cancel_stops_before_the_next_step_and_still_saves(tmp_path):
    seen = []
    result = train_joint(joint_config(tmp_path, max_steps=50, log_every=1),
                         on_metric=lambda n, v, s: seen.append(s), cancel=lambda: len(seen) > 0)
    assert result.status == "cancelled" and result.steps == 1
    assert (Path(result.head_dir) / "energy_head.safetensors").is_file()


def test_bad_settings_say_which(tmp_path):
    with pytest.raises(JointConfigError, match="trajectory_files"):
        joint_config(tmp_path, trajectory_file=tmp_path / "missing.parquet").validate()
    with pytest.raises(JointConfigError, match="lr_lora"):
        joint_config(tmp_path, lr_lora=-1.0).validate()
    with pytest.raises(JointConfigError, match="cannot both be 0"):
        joint_config(tmp_path, sft_weight=0.0, contrastive_weight=0.0).validate()
