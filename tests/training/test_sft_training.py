"""The LoRA SFT loop on a tiny model: loss goes down, metrics stream, cancellation, checkpoint + meta, CLI,
and the adapter is served by `python -m prover.serving --adapter`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from prover.policy.prompts import format_prompt
from tests.training.sft_helpers import ROOT, pair_rows, tiny_model_dir, write_jsonl
from training.sft import SFTConfig, SFTConfigError, train_sft
from training.sft.train import META_FILE, lr_factor, read_meta


def small_config(tmp_path: Path, **overrides) -> SFTConfig:
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(12))
    settings = dict(
        model_path=str(tiny_model_dir()), data_files=[str(data)], output_dir=str(tmp_path / "adapter"),
        prompt_format="goal-proofstep", max_steps=30, batch_size=4, grad_accum=2, learning_rate=3e-3,
        warmup_steps=3, lora_r=8, lora_alpha=16, lora_dropout=0.0, max_length=128, val_fraction=0.2,
        eval_every=10, log_every=5, seed=0,
    )
    settings.update(overrides)
    return SFTConfig(**settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One 30-step run shared by the tests that inspect its outputs."""
    tmp_path = tmp_path_factory.mktemp("sft")
    metrics: list[tuple[str, float, int]] = []
    config = small_config(tmp_path)
    result = train_sft(config, on_metric=lambda name, value, step: metrics.append((name, value, step)))
    return config, result, metrics


def test_loss_goes_down_over_thirty_steps(trained):
    _, result, metrics = trained
    train_losses = [v for name, v, _ in metrics if name == "train_loss"]
    assert result.status == "completed" and result.steps == 30
    assert len(train_losses) == 6 and train_losses[-1] < train_losses[0] / 4
    val_losses = [v for name, v, _ in metrics if name == "val_loss"]
    assert len(val_losses) == 3 and val_losses[-1] < val_losses[0]
    assert result.final_val_loss == val_losses[-1] and result.final_train_loss == train_losses[-1]


def test_metrics_callback_streams_every_curve_with_steps(trained):
    _, _, metrics = trained
    by_name: dict[str, list[tuple[int, float]]] = {}
    for name, value, step in metrics:
        assert isinstance(value, float) and isinstance(step, int)
        by_name.setdefault(name, []).append((step, value))
    assert set(by_name) == {"train_loss", "val_loss", "lr", "tokens_per_s", "step_s", "peak_rss_mb"}
    assert [s for s, _ in by_name["train_loss"]] == [5, 10, 15, 20, 25, 30]
    assert [s for s, _ in by_name["val_loss"]] == [10, 20, 30]
    lrs = [v for _, v in by_name["lr"]]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] <= 3e-3  # past warmup: linear decay
    assert all(v > 0 for _, v in by_name["tokens_per_s"])
    peaks = [v for _, v in by_name["peak_rss_mb"]]
    assert peaks == sorted(peaks) and 50 < peaks[0] < 64 * 1024  # a peak never goes down; MB, not KB or bytes


def test_lr_schedule_warms_up_then_decays_linearly():
    factors = [lr_factor(s, 4, 12) for s in range(12)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert factors[4:] == sorted(factors[4:], reverse=True) and factors[-1] == pytest.approx(1 / 8)
    assert lr_factor(0, 0, 5) == 1.0


def test_checkpoint_is_an_adapter_folder_with_its_meta(trained):
    config, result, _ = trained
    out = Path(result.output_dir)
    assert (out / "adapter_config.json").exists() and (out / "adapter_model.safetensors").exists()
    meta = read_meta(out)
    assert meta == json.loads((out / META_FILE).read_text())
    assert meta["status"] == "completed" and meta["steps"] == 30 and meta["prompt_format"] == "goal-proofstep"
    assert meta["base_model"] == str(Path(config.model_path).resolve())
    assert meta["data_files"][0]["path"] == config.data_files[0] and len(meta["data_files"][0]["sha256"]) == 64
    assert meta["split"]["val_fraction"] == 0.2 and meta["split"]["by"] == "theorem_name"
    assert meta["split"]["train_theorems"] + meta["split"]["val_theorems"] == 12
    assert meta["final_train_loss"] == result.final_train_loss and meta["final_val_loss"] == result.final_val_loss
    assert meta["versions"]["torch"] and meta["versions"]["peft"] and meta["versions"]["transformers"]
    assert meta["config"]["lora_r"] == 8


def test_the_server_loader_applies_the_trained_adapter(trained):
    from prover.serving.model_loading import load_model

    _, result, _ = trained
    base = load_model(tiny_model_dir(), dtype="fp32", device="cpu")
    adapted = load_model(tiny_model_dir(), dtype="fp32", device="cpu", adapter=result.output_dir)
    assert adapted.adapter_merged
    prompt = format_prompt("goal-proofstep", state="x : ℕ\n⊢ x + 3 = 3 + x")
    ids = torch.tensor([adapted.tokenizer(prompt)["input_ids"]])
    with torch.no_grad():
        trained_next = adapted.model(input_ids=ids).logits[0, -1].argmax().item()
        base_logits = base.model(input_ids=ids).logits[0, -1]
    assert not torch.allclose(adapted.model(input_ids=ids).logits[0, -1], base_logits)
    assert adapted.tokenizer.decode([trained_next]) == adapted.tokenizer.decode(
        adapted.tokenizer("omega", add_special_tokens=False)["input_ids"][:1])


def test_prover_serving_generates_with_the_adapter(trained):
    import httpx

    from tests.serving.conftest import start_server, stop_server

    _, result, _ = trained
    server = start_server(tiny_model_dir(), "--dtype", "fp32", "--adapter", result.output_dir, "--seed", "0")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            info = http.get("/model_info").json()
            reply = http.post("/generate", json={
                "text": format_prompt("goal-proofstep", state="x : ℕ\n⊢ x + 5 = 5 + x"),
                "sampling_params": {"max_new_tokens": 6, "temperature": 0.0},
            })
    finally:
        stop_server(server)
    assert info["adapter"] is not None and info["adapter_merged"] is True
    assert reply.status_code == 200, reply.text
    assert reply.json()["text"].startswith("omega")


def test_training_continues_from_an_existing_adapter(trained, tmp_path):
    _, first, first_metrics = trained
    losses: list[float] = []
    result = train_sft(
        small_config(tmp_path, init_adapter=first.output_dir, max_steps=5, learning_rate=1e-5, warmup_steps=0,
                     output_dir=str(tmp_path / "continued")),
        on_metric=lambda name, value, step: losses.append(value) if name == "train_loss" else None,
    )
    fresh_first = next(v for name, v, _ in first_metrics if name == "train_loss")
    assert result.status == "completed" and losses[0] < fresh_first / 4
    assert read_meta(result.output_dir)["init_adapter"] == str(Path(first.output_dir).resolve())


def test_cancel_flag_stops_between_steps_and_still_saves(tmp_path):
    seen: list[int] = []
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 4  # checked before each step: four steps run

    result = train_sft(small_config(tmp_path), cancel=cancel,
                       on_metric=lambda name, value, step: seen.append(step))
    assert result.status == "cancelled" and result.steps == 4
    assert read_meta(result.output_dir)["status"] == "cancelled" and read_meta(result.output_dir)["steps"] == 4
    assert max(seen) == 4
    event = threading.Event()
    event.set()
    result = train_sft(small_config(tmp_path, output_dir=str(tmp_path / "at-once")), cancel=event)
    assert result.status == "cancelled" and result.steps == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model_path": "/nonexistent"}, "not a transformers model folder"),
        ({"data_files": ["/nonexistent.jsonl"]}, "does not exist"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"max_steps": 0}, "max_steps"),
        ({"prompt_format": "nope"}, "unknown prompt format"),
        ({"prompt_format": "deepseek-whole-proof"}, "not a tactic-state format"),
        ({"lora_dropout": 1.5}, "lora_dropout"),
        ({"target_modules": []}, "target_modules"),
        ({"dtype": "fp16"}, "dtype"),
        ({"init_adapter": "/nonexistent"}, "init_adapter"),
        ({"target_modules": ["q_proj", "c_attn"]}, r"\['c_attn'\] are not modules of this model"),
    ],
)
def test_invalid_configs_are_refused_with_the_setting_named(tmp_path, overrides, message):
    with pytest.raises(SFTConfigError, match=message):
        train_sft(small_config(tmp_path, **overrides))


def test_cli_trains_on_a_tiny_file(tmp_path):
    data = write_jsonl(tmp_path / "steps.jsonl",
                       [{"theorem": r["name"], "state": r["state_before"], "tactic": r["tactic"], "depth": 0}
                        for r in pair_rows(4)])
    out = tmp_path / "cli-adapter"
    metrics = tmp_path / "metrics.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "training", "sft", "--model", str(tiny_model_dir()), "--data", str(data),
         "--output", str(out), "--steps", "3", "--batch-size", "2", "--grad-accum", "1", "--lora-r", "4",
         "--max-length", "128", "--log-every", "1", "--prompt-format", "goal-proofstep",
         "--metrics-jsonl", str(metrics)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed: 3 steps" in done.stdout
    assert read_meta(out)["steps"] == 3 and (out / "adapter_model.safetensors").exists()
    names = {json.loads(line)["name"] for line in metrics.read_text().splitlines()}
    assert {"train_loss", "lr", "tokens_per_s"} <= names


def test_cli_reports_bad_data_with_file_and_line(tmp_path, capsys):
    from training.__main__ import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a", "state_before": "⊢ p", "tactic": "simp"}\n{oops\n', encoding="utf-8")
    code = main(["sft", "--model", str(tiny_model_dir()), "--data", str(bad), "--output", str(tmp_path / "o")])
    assert code == 2
    assert f"{bad}, line 2: malformed JSON" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
