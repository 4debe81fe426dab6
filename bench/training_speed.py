"""Benchmark the SFT loop against the loop it replaced, on the bundled tactic pairs: tokens/s and peak RSS.

    python bench/training_speed.py                       # the embedded SmolLM2-135M (converted once, cached)
    python bench/training_speed.py --model PATH          # any transformers causal LM folder

Two settings, each run by both loops in its own subprocess (peak RSS is per process):
  speed   batch 2, max_length 256, a few optimizer steps: tokens/s (real tokens, prompt included, the first
          step left out as warm-up);
  memory  batch 8, max_length 1024, a few steps: peak RSS. A child whose RSS passes --rss-limit-gb is killed
          and reported as such (the previous loop reached 23.6 GB there on a 24 GB machine).

"previous loop" is the step the SFT loop ran before docs/sft-memory.md: one forward per batch of
uniformly drawn examples, logits over every position, cross-entropy over the labelled ones, in float32 on CPU.
"this loop" is `training.sft.train_sft` itself, with its defaults (dtype by CPU capability unless --dtype).
Both use LoRA r 32 on the attention and MLP projections, AdamW, the same data and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data" / "tactic_pairs" / "minif2f_test_tactic_pairs_internlm2.jsonl"


def model_folder(choice: str | None) -> str:
    if choice and choice != "embedded":
        return choice
    from prover.serving.embedded_model import ensure_embedded_model

    return str(ensure_embedded_model())


def previous_loop(model_path: str, batch_size: int, max_length: int, steps: int, dtype: str) -> dict:
    """The SFT step as it was: uniform batches, full-sequence logits, one forward per batch."""
    import random

    import torch
    import torch.nn.functional as F
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prover.serving.device_memory import peak_memory_mb
    from training.sft.dataset import IGNORE_INDEX, collate, load_examples, tokenize_examples
    from training.sft.train import DEFAULT_TARGET_MODULES

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    examples = load_examples([str(DATA)], "deepseek-prover").examples
    items, _ = tokenize_examples(tokenizer, examples, "deepseek-prover", max_length=max_length)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.bfloat16 if dtype == "bf16" else torch.float32)
    model = get_peft_model(model, LoraConfig(r=32, lora_alpha=64, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=list(DEFAULT_TARGET_MODULES)))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-5)
    rng = random.Random(42)
    tokens = 0
    start = 0.0
    for step in range(steps):
        if step == 1:
            tokens, start = 0, time.perf_counter()
        ids, mask, labels = collate([items[rng.randrange(len(items))] for _ in range(batch_size)], tokenizer.eos_token_id)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1, :].float()
        shifted = labels[:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), shifted.reshape(-1), ignore_index=IGNORE_INDEX,
                               reduction="sum") / max(int((shifted != IGNORE_INDEX).sum()), 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        tokens += int(mask.sum())
    return {"tokens_per_s": tokens / (time.perf_counter() - start), "dtype": dtype, **peak_memory_mb("cpu")}


def this_loop(model_path: str, batch_size: int, max_length: int, steps: int, dtype: str | None) -> dict:
    from training.sft import SFTConfig, train_sft

    seen: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sft-") as out:
        result = train_sft(
            SFTConfig(model_path=model_path, data_files=[str(DATA)], output_dir=out, max_steps=steps,
                      batch_size=batch_size, grad_accum=1, max_length=max_length, log_every=1, eval_every=0,
                      val_fraction=0.0, dtype=dtype),
            on_metric=lambda name, value, step: seen.append((name, value, step)),
        )
    rates = [value for name, value, step in seen if name == "tokens_per_s" and step > 1]  # step 1 is warm-up
    return {"tokens_per_s": sum(rates) / len(rates), "dtype": result.meta["dtype"],
            "peak_rss_mb": result.meta["peak_memory_mb"]["peak_rss_mb"]}


def run_child(args: argparse.Namespace, variant: str, batch_size: int, max_length: int, steps: int) -> dict:
    """Run one variant in a subprocess, killing it if its RSS passes the limit; its result or why it stopped."""
    import psutil

    command = [sys.executable, __file__, "--child", variant, "--model", args.model_path, "--batch-size",
               str(batch_size), "--max-length", str(max_length), "--steps", str(steps),
               *(["--dtype", args.dtype] if args.dtype else [])]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    process = psutil.Process(child.pid)
    limit = args.rss_limit_gb * 2**30
    highest = 0
    while child.poll() is None:
        try:
            highest = max(highest, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if highest > limit:
            child.kill()
            child.wait()
            return {"killed": f"RSS passed {args.rss_limit_gb:g} GB after {time.perf_counter() - started:.0f} s"}
        time.sleep(0.2)
    output = child.stdout.read().strip().splitlines() if child.stdout else []
    if child.returncode != 0 or not output:
        return {"killed": f"exited with code {child.returncode}"}
    return json.loads(output[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="'embedded' (default) or a model folder")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], help="both loops (default: previous fp32, this auto)")
    parser.add_argument("--speed-steps", type=int, default=6)
    parser.add_argument("--memory-steps", type=int, default=4)
    parser.add_argument("--rss-limit-gb", type=float, default=8.0)
    parser.add_argument("--only", choices=["speed", "memory"], help="run one of the two settings")
    parser.add_argument("--child", choices=["previous", "this"], help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-length", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        runner = previous_loop if args.child == "previous" else this_loop
        dtype = args.dtype or ("fp32" if args.child == "previous" else None)
        print(json.dumps(runner(args.model, args.batch_size, args.max_length, args.steps, dtype)), flush=True)
        return

    import torch

    from bench._machine import machine_line
    from prover.serving.precision import cpu_description

    args.model_path = model_folder(args.model)
    limits = " ".join(f"{v}={os.environ[v]}" for v in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                                                       "MKL_ENABLE_INSTRUCTIONS") if v in os.environ)
    print(f"{machine_line()}; torch {torch.__version__} ({torch.get_num_threads()} threads), CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, flags: {cpu_description()}{'; ' + limits if limits else ''}; "
          "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    print(f"model {args.model_path}; data {DATA.name}; LoRA r 32 on q,k,v,o,gate,up,down", flush=True)
    settings = [("speed", 2, 256, args.speed_steps), ("memory", 8, 1024, args.memory_steps)]
    print(f"{'setting':<34}{'loop':<15}{'dtype':<7}{'tokens/s':>10}{'peak RSS':>12}", flush=True)
    for name, batch, length, steps in settings:
        if args.only and name != args.only:
            continue
        rates = {}
        for variant in ("previous", "this"):
            result = run_child(args, variant, batch, length, steps)
            label = f"{name}: batch {batch}, max_length {length}"
            loop = "previous loop" if variant == "previous" else "this loop"
            if "killed" in result:
                print(f"{label:<34}{loop:<15}{'':<7}{'-':>10}  stopped: {result['killed']}", flush=True)
                continue
            rates[variant] = result["tokens_per_s"]
            print(f"{label:<34}{loop:<15}{result['dtype']:<7}{result['tokens_per_s']:>10.1f}"
                  f"{result['peak_rss_mb'] / 1024:>10.2f} GB", flush=True)
        if len(rates) == 2:
            print(f"{'':<34}ratio this / previous tokens/s: {rates['this'] / rates['previous']:.2f}", flush=True)


if __name__ == "__main__":
    main()
