"""Training under torchrun: two real processes (gloo on the CPU) share the data and take the step one process
would take over all of it; only the main process logs and saves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.training.sft_helpers import pair_rows, tiny_model_dir, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def torchrun(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(port), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_gradients_summed_over_shares_equal_the_whole_batch_gradient(tmp_path):
    done = torchrun(str(ROOT / "tests" / "training" / "data_parallel_worker.py"), str(tmp_path), str(tiny_model_dir()))
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["size"] for r in ranks] == [2, 2]
    assert sorted(ranks[0]["share"] + ranks[1]["share"]) == list(range(6))  # disjoint shares covering the batch
    for rank in ranks:
        assert rank["scale"] > 0
        assert rank["difference"] <= 1e-5 * rank["scale"] + 1e-7, rank


def test_sft_under_torchrun_trains_once_and_saves_one_checkpoint(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(12))
    out = tmp_path / "adapter"
    done = torchrun("-m", "training", "sft", "--model", str(tiny_model_dir()), "--data", str(data), "--output",
                    str(out), "--steps", "3", "--batch-size", "2", "--log-every", "1", "--eval-every", "0",
                    "--lora-r", "4", "--lora-alpha", "8", "--device", "cpu", "--dtype", "fp32")
    assert done.returncode == 0, done.stderr[-3000:]
    meta = json.loads((out / "training_meta.json").read_text())
    assert meta["status"] == "completed" and meta["steps"] == 3
    assert meta["data_parallel_processes"] == 2
    assert (out / "adapter_model.safetensors").exists()
    logged = done.stdout + done.stderr
    assert logged.count("step 3/3") == 1  # the main process alone reports
