"""The real parts an iteration runs on in tests: two datasets split by theorem name (train / held out), a tiny
random Llama for the training loops, the project's /encode server over that same model (the EBM's embeddings in
evaluations), a scripted SGLang policy that proves the easy theorems, and seed SFT data."""

import json
import time
from pathlib import Path

import pytest

from jobs.models import Artifact
from prover.services import import_dataset

TRAIN = "\n".join(json.dumps({"name": n, "formal_statement": s}, ensure_ascii=False) for n, s in [
    ("add_one", "theorem add_one (x : ℝ) (h : x = 2) : x + 1 = 3 := by"),
    ("double", "theorem double (a b : ℝ) (h₀ : a = 3) (h₁ : b = 2 * a) : b = 6 := by"),
    ("wrong_sum", "theorem wrong_sum (x : ℝ) (h : x = 2) : x + 1 = 4 := by"),  # its states are the EBM's negatives
])
HELD_OUT = "\n".join(json.dumps({"name": n, "formal_statement": s}, ensure_ascii=False) for n, s in [
    ("add_two", "theorem add_two (x : ℝ) (h : x = 5) : x + 2 = 7 := by"),
    ("false_claim", "theorem false_claim (x : ℝ) (h : x = 2) : x = 3 := by"),
])


def import_datasets() -> None:
    import_dataset(name="train", text=TRAIN, format="lean-workbook")
    import_dataset(name="heldout", text=HELD_OUT, format="lean-workbook")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from prover.serving.tiny_model import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("iter-tiny"))


@pytest.fixture(scope="module")
def encoder_url(tiny_model):
    from tests.serving.conftest import start_server, stop_server

    server = start_server(tiny_model, "--dtype", "fp32", "--seed", "0")
    yield server.url
    stop_server(server)


@pytest.fixture(scope="module")
def prover_policy():
    from tests.web.test_run_lifecycle import start_policy

    process, url = start_policy("intros", "linarith")
    yield url
    process.kill()
    process.wait()


def seed_data(tmp_path: Path) -> Artifact:
    path = tmp_path / "seed.jsonl"
    path.write_text("".join(json.dumps({"name": f"seed{i}", "state_before": f"x : ℝ\nh : x = {i}\n⊢ x + 1 = {i + 1}",
                                        "tactic": "linarith"}, ensure_ascii=False) + "\n" for i in range(6)),
                    encoding="utf-8")
    return Artifact.objects.create(kind=Artifact.Kind.SFT_DATA, name="seed proofs", path=str(path))


def iteration_config(*, model: Path, policy_url: str, encoder_url: str, seed: Artifact | None = None, **extra) -> dict:
    """A tiny iteration: two or three theorems each side, a few nodes, two optimizer steps per loop."""
    search = {"strategy": "best_first", "num_candidates": 2, "max_nodes": 4, "timeout_s": 60}
    return {
        "train_dataset": "train", "eval_dataset": "heldout", "policy_training": "sft", "configs": ["A", "B"],
        "model_path": str(model), "seed_data": [seed.pk] if seed else [], "search": search, "train_search": search,
        "run": {"policy_url": policy_url, "encoder_url": encoder_url, "chunk_size": 2},
        "sft": {"max_steps": 2, "batch_size": 2, "grad_accum": 1, "log_every": 1, "eval_every": 0,
                "max_length": 256},
        "ebm": {"steps": 3, "batch_size": 4, "log_every": 1, "eval_every": 3},
        **extra,
    }


def wait_iteration(iteration, timeout_s: float = 240, until=None, log: Path | None = None):
    """Wait for the iteration to finish (or for `until(iteration)`), failing with its steps if it does not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        iteration.refresh_from_db()
        if (until or (lambda it: it.finished))(iteration):
            return iteration
        time.sleep(0.3)
    steps = list(iteration.steps.values_list("position", "name", "status", "error"))
    tail = log.read_text()[-3000:] if log else ""
    raise AssertionError(f"iteration {iteration.pk} still {iteration.status}: {steps}\n{tail}")
