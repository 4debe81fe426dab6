"""Benchmark a joint training step (SFT + lambda*InfoNCE through one backbone) against a plain SFT step of the
same shape, in the same run; optionally a short joint training run with wall time, tokens/s and peak RSS.

    python bench/joint_training.py                                   # embedded SmolLM2-135M on CPU
    python bench/joint_training.py --run-steps 24                    # + a 24-step joint run on the bundled data
    python bench/joint_training.py --device cuda --shape prover7b --quant nf4 --grad-checkpointing --lora-r 64

--shape prover7b builds a Llama of DeepSeek-Prover-V2-7B's shape (hidden 4096, 30 layers, MLP 11008, vocab
102400) with random weights, once, into --cache (about 14 GB in bf16; only on CUDA); --shape smollm2 the
embedded model's shape with random weights (no GGUF conversion needed, e.g. on a bare GPU machine). Each variant runs in its own subprocess,
so peak RSS is per variant. Both variants use the same model, LoRA, SFT batch (batch size, max length) and
data; the joint step adds --contrastive-batch-size (state, goal) samples with K = 3 negatives.

Data: the bundled miniF2F tactic pairs for SFT; the trajectories are synthetic, made from the same pairs
(`synthetic_trajectories`): a theorem's successive proof states are its proof path (positive) and each
state gets two negative siblings borrowed from other theorems' states at that depth. They exercise the loop's
shapes and sampler honestly; they are not search data, so the losses say nothing about a prover.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data" / "tactic_pairs" / "minif2f_test_tactic_pairs_internlm2.jsonl"


def synthetic_trajectories(path: Path, siblings: int = 2) -> Path:
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from prover.engine.trajectory import SCHEMA

    steps: dict[str, list[str]] = defaultdict(list)
    for line in DATA.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        steps[record["name"]].append(record["state_before"])
    by_depth: dict[int, list[str]] = defaultdict(list)
    for states in steps.values():
        for depth, state in enumerate(states):
            by_depth[depth].append(state)
    rng = random.Random(0)
    rows = []

    def row(name, sid, text, parent, label, depth, root, terminal=False):
        field_defaults = {"llm_log_prob": 0.0, "ebm_score": 0.0, "timestamp_ms": 0, "q_value": 0.0, "visits": 0,
                          "energy": None, "num_goals": 1, "node_status": "", "expansion_order": None,
                          "created_ms": 0.0, "source": "bench", "extra_parent_ids": [], "strategy": "best_first"}
        return {"theorem_name": name, "state_id": sid, "state_pp": text, "tactic_applied": "" if parent is None else "t",
                "parent_state_id": parent, "label": label, "depth_from_root": depth,
                "remaining_depth": 0 if label == "positive" else -1, "is_proof_complete": terminal,
                "root_state_pp": root, "theorem_proved": True, **field_defaults}

    for name, states in steps.items():
        if len(states) < 2:
            continue
        root = states[0]
        rows.append(row(name, 0, root, None, "positive", 0, root))
        parent, sid = 0, 1
        for depth, state in enumerate(states[1:], start=1):
            own = sid
            rows.append(row(name, own, state, parent, "positive", depth, root))
            pool = [s for s in by_depth.get(depth, []) + by_depth.get(depth - 1, []) if s not in states]
            for j in range(siblings):
                if pool:
                    rows.append(row(name, own + 1 + j, rng.choice(pool), parent, "negative", depth, root))
            parent, sid = own, own + 1 + siblings
        rows.append(row(name, sid, "", parent, "positive", len(states), root, terminal=True))
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path


def model_folder(args) -> str:
    """The embedded model itself, or random weights of a named shape (prover.serving.tiny_model.SHAPES) saved
    once into --cache with SmolLM2's tokenizer (--tokenizer, else the embedded model's)."""
    if args.shape == "embedded":
        from prover.serving.embedded_model import ensure_embedded_model

        return str(ensure_embedded_model())
    folder = Path(args.cache) / f"{args.shape}-random"
    if not (folder / "config.json").exists():
        import torch
        from transformers import AutoTokenizer

        from prover.serving.tiny_model import SHAPES, random_llama_like

        if args.tokenizer:
            tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        else:
            from prover.serving.embedded_model import ensure_embedded_model

            tokenizer = AutoTokenizer.from_pretrained(ensure_embedded_model())  # any tokenizer: the weights are random
        model = random_llama_like(SHAPES[args.shape], device=args.device).to(torch.bfloat16)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        del model
    return str(folder)


def child(args) -> dict:
    from training.joint import JointConfig, train_joint
    from training.sft import SFTConfig, train_sft

    seen: list[tuple[str, float, int]] = []
    common = dict(model_path=args.model_path, data_files=[str(DATA)], max_steps=args.steps, batch_size=args.batch_size,
                  lora_r=args.lora_r, lora_alpha=2 * args.lora_r, max_length=args.max_length, log_every=1,
                  val_fraction=0.0, device=args.device, gradient_checkpointing=args.grad_checkpointing,
                  quant=args.quant, prompt_format="deepseek-prover")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-joint-") as out:
        if args.child == "sft":
            result = train_sft(SFTConfig(output_dir=out, grad_accum=1, eval_every=0, **common),
                               on_metric=lambda n, v, s: seen.append((n, v, s)))
        else:
            result = train_joint(JointConfig(output_dir=out, trajectory_files=[args.trajectories],
                                             contrastive_batch_size=args.contrastive_batch_size, negatives=3,
                                             probe_every=0, **common),
                                 on_metric=lambda n, v, s: seen.append((n, v, s)))
    wall = time.perf_counter() - started
    warm = [(n, v) for n, v, s in seen if s > 1]  # step 1 is warm-up

    def mean(name):
        values = [v for n, v in warm if n == name]
        return sum(values) / len(values) if values else float("nan")

    return {"step_s": mean("step_s"), "tokens_per_s": mean("tokens_per_s"), "wall_s": wall,
            "peak_rss_mb": result.meta["peak_memory_mb"].get("peak_rss_mb"),
            "cuda_peak_mb": result.meta["peak_memory_mb"].get("cuda_peak_mb"), "dtype": result.meta["dtype"],
            "final": {n: v for n, v, _ in seen if n in ("joint/sft_loss", "joint/infonce_loss", "train_loss",
                                                        "probe/centroid_l2", "probe/linear_probe_acc")},
            "first": {n: v for n, v, s in seen if s == 1 and n in ("joint/sft_loss", "joint/infonce_loss", "train_loss")}}


def run_child(args, variant: str, steps: int) -> dict:
    command = [sys.executable, __file__, "--child", variant, "--model-path", args.model_path, "--trajectories",
               args.trajectories, "--steps", str(steps), "--device", args.device, "--quant", args.quant,
               "--lora-r", str(args.lora_r), "--batch-size", str(args.batch_size), "--max-length", str(args.max_length),
               "--contrastive-batch-size", str(args.contrastive_batch_size),
               *(["--grad-checkpointing"] if args.grad_checkpointing else [])]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"failed": f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] }"}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--shape", default="embedded", choices=["embedded", "smollm2", "prover7b"],
                        help="the embedded model, or random weights of SmolLM2-135M's or DeepSeek-Prover-V2-7B's shape")
    parser.add_argument("--tokenizer", help="tokenizer folder for the random shapes (default: the embedded model's)")
    parser.add_argument("--quant", default="none", choices=["none", "nf4"])
    parser.add_argument("--grad-checkpointing", action="store_true")
    parser.add_argument("--lora-r", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=2, help="SFT examples per step")
    parser.add_argument("--contrastive-batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5, help="steps per variant for the step-time comparison (0: skip it)")
    parser.add_argument("--run-steps", type=int, default=0, help="then a joint run of this many steps (0: none)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "burnqed-bench"))
    parser.add_argument("--child", choices=["sft", "joint"], help=argparse.SUPPRESS)
    parser.add_argument("--model-path", help=argparse.SUPPRESS)
    parser.add_argument("--trajectories", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)), flush=True)
        return
    if args.shape == "prover7b" and args.device != "cuda":
        parser.error("--shape prover7b is for a GPU (--device cuda); on a CPU run the embedded or smollm2 shape")

    import torch

    from bench._machine import machine_line

    print(f"{machine_line()}; torch {torch.__version__} ({torch.get_num_threads()} threads), CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}"
          + (f"; GPU {torch.cuda.get_device_name()}" if args.device == "cuda" else "")
          + "; load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    args.model_path = model_folder(args)
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    args.trajectories = str(synthetic_trajectories(Path(args.cache) / "synthetic-trajectories.parquet"))
    print(f"model {args.shape} ({args.model_path}), quant {args.quant}, LoRA r {args.lora_r}, SFT batch "
          f"{args.batch_size} x max_length {args.max_length}, contrastive batch {args.contrastive_batch_size} x "
          f"(goal + positive + 3 negatives), grad checkpointing {args.grad_checkpointing}", flush=True)
    print(f"{'step':<12}{'dtype':<7}{'s/step':>9}{'tokens/s':>11}{'peak RSS':>11}{'CUDA peak':>11}", flush=True)
    results = {}
    for variant in ("sft", "joint") if args.steps else ():
        result = run_child(args, variant, args.steps)
        if "failed" in result:
            print(f"{variant:<12}failed: {result['failed']}", flush=True)
            continue
        results[variant] = result
        cuda = f"{result['cuda_peak_mb'] / 1024:.2f} GB" if result.get("cuda_peak_mb") else "-"
        print(f"{variant:<12}{result['dtype']:<7}{result['step_s']:>9.3f}{result['tokens_per_s']:>11.1f}"
              f"{result['peak_rss_mb'] / 1024:>8.2f} GB{cuda:>11}", flush=True)
    if len(results) == 2:
        print(f"ratio joint / sft seconds per step: {results['joint']['step_s'] / results['sft']['step_s']:.2f}", flush=True)
    if args.run_steps:
        result = run_child(args, "joint", args.run_steps)
        if "failed" in result:
            print(f"joint run failed: {result['failed']}")
            return
        print(f"joint run of {args.run_steps} steps: wall {result['wall_s']:.1f} s (model load and probes included), "
              f"{result['step_s']:.3f} s/step, {result['tokens_per_s']:.1f} tokens/s, peak RSS "
              f"{result['peak_rss_mb'] / 1024:.2f} GB", flush=True)
        print(f"  first step: {json.dumps(result['first'])}\n  last:       {json.dumps(result['final'])}", flush=True)


if __name__ == "__main__":
    main()
