"""`python -m training sft --model PATH --data FILE [--data FILE2] --output DIR [--steps N ...]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from prover.policy.prompts import DEFAULT_PROMPT_FORMAT
from theorem_data.errors import DataFileError
from training.sft.train import DEFAULT_TARGET_MODULES, SFTConfig, SFTConfigError, train_sft


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = SFTConfig.__dataclass_fields__
    parser.add_argument("--model", required=True, help="base transformers model folder")
    parser.add_argument("--data", action="append", required=True, metavar="FILE",
                        help="JSONL of tactic pairs (name/state_before/tactic) or proof paths (theorem/state/tactic); repeatable")
    parser.add_argument("--output", required=True, help="adapter folder to write (adapter + training_meta.json)")
    parser.add_argument("--prompt-format", default=DEFAULT_PROMPT_FORMAT)
    parser.add_argument("--steps", type=int, default=d["max_steps"].default, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=d["batch_size"].default)
    parser.add_argument("--grad-accum", type=int, default=d["grad_accum"].default)
    parser.add_argument("--lr", type=float, default=d["learning_rate"].default)
    parser.add_argument("--weight-decay", type=float, default=d["weight_decay"].default)
    parser.add_argument("--warmup-ratio", type=float, default=d["warmup_ratio"].default)
    parser.add_argument("--warmup-steps", type=int)
    parser.add_argument("--lora-r", type=int, default=d["lora_r"].default)
    parser.add_argument("--lora-alpha", type=int, default=d["lora_alpha"].default)
    parser.add_argument("--lora-dropout", type=float, default=d["lora_dropout"].default)
    parser.add_argument("--target-modules", default=",".join(DEFAULT_TARGET_MODULES), help="comma-separated")
    parser.add_argument("--max-length", type=int, default=d["max_length"].default)
    parser.add_argument("--val-fraction", type=float, default=d["val_fraction"].default)
    parser.add_argument("--eval-every", type=int, default=d["eval_every"].default)
    parser.add_argument("--eval-max-examples", type=int, default=d["eval_max_examples"].default)
    parser.add_argument("--log-every", type=int, default=d["log_every"].default)
    parser.add_argument("--seed", type=int, default=d["seed"].default)
    parser.add_argument("--device")
    parser.add_argument("--dtype", choices=["bf16", "fp32"])
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--max-tokens-per-forward", type=int,
                        help="padded tokens per forward/backward (bounds memory; the gradient is the same); "
                        "default 1024 in bf16, 512 in fp32")
    parser.add_argument("--init-adapter", help="continue training this LoRA adapter folder instead of a fresh one")
    parser.add_argument("--metrics-jsonl", help="also append every metric as a JSON line to this file")


def config_from_args(args: argparse.Namespace) -> SFTConfig:
    return SFTConfig(
        model_path=args.model, data_files=list(args.data), output_dir=args.output,
        prompt_format=args.prompt_format, max_steps=args.steps, batch_size=args.batch_size,
        grad_accum=args.grad_accum, learning_rate=args.lr, weight_decay=args.weight_decay,
        warmup_ratio=args.warmup_ratio, warmup_steps=args.warmup_steps, lora_r=args.lora_r,
        lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
        target_modules=[m.strip() for m in args.target_modules.split(",") if m.strip()],
        max_length=args.max_length, val_fraction=args.val_fraction, eval_every=args.eval_every,
        eval_max_examples=args.eval_max_examples, log_every=args.log_every, seed=args.seed,
        device=args.device, dtype=args.dtype, gradient_checkpointing=args.gradient_checkpointing,
        max_tokens_per_forward=args.max_tokens_per_forward,
        init_adapter=args.init_adapter,
    )


def run(args: argparse.Namespace) -> int:
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())  # Ctrl-C: stop after this step, save
    metrics = open(args.metrics_jsonl, "a", encoding="utf-8") if args.metrics_jsonl else None

    def on_metric(name: str, value: float, step: int) -> None:
        if metrics is not None:
            metrics.write(json.dumps({"name": name, "value": value, "step": step}) + "\n")
            metrics.flush()

    try:
        result = train_sft(config_from_args(args), on_metric=on_metric, cancel=cancel,
                           log=lambda m: print(m, flush=True))
    except (SFTConfigError, DataFileError, ValueError) as error:
        print(f"training sft: error: {error}", file=sys.stderr, flush=True)
        return 2
    finally:
        signal.signal(signal.SIGINT, previous)
        if metrics is not None:
            metrics.close()
    print(f"{result.status}: {result.steps} steps, train loss {result.final_train_loss}, "
          f"val loss {result.final_val_loss} -> {result.output_dir}", flush=True)
    return 0 if result.status == "completed" else 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training sft", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
