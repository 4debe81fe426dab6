"""`python -m training ebm`: train a GoalConditionedEnergyHead on trajectory files.

    python -m training ebm --trajectories run1.parquet run2.parquet \
        (--encoder-url http://host:30001 --hidden-size 4096 | --model PATH) --output DIR [--steps N ...]

Prints one JSON line with the stop reason, steps and final metrics; exit 0 on completion, 3 on a
temperature abort, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from training.ebm.samples import SampleConfig, SampleError
from training.ebm.train import EbmTrainConfig, TemperatureAbortError, train_energy_head


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training ebm", description=__doc__.split("\n\n")[0])
    p.add_argument("--trajectories", nargs="+", required=True, help="trajectory Parquet file(s)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--encoder-url", help="base URL of an /encode server (production)")
    source.add_argument("--model", help="transformers model folder, mean-pooled in this process")
    p.add_argument("--hidden-size", type=int, help="embedding width of the /encode server (with --encoder-url)")
    p.add_argument("--backbone-id", help="backbone recorded in the checkpoint (default: the model path)")
    p.add_argument("--output", required=True, help="checkpoint directory")
    p.add_argument("--init-from", help="energy-head checkpoint to continue from (e.g. the previous iteration's)")
    d = EbmTrainConfig()
    s = SampleConfig()
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--log-every", type=int, default=d.log_every)
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--hidden-dims", type=int, nargs="+", help="head widths (default D/2 D/4 D/8)")
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--negatives", type=int, default=s.negatives_per_positive, help="K negatives per positive")
    p.add_argument("--hard-ratio", type=float, default=s.hard_ratio)
    p.add_argument("--medium-ratio", type=float, default=s.medium_ratio)
    p.add_argument("--val-fraction", type=float, default=s.val_fraction)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device)
    p.add_argument("--quiet", action="store_true", help="no metric lines on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = EbmTrainConfig(
            steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
            warmup_steps=args.warmup_steps, eval_every=args.eval_every, log_every=args.log_every,
            checkpoint_every=args.checkpoint_every, hidden_dims=tuple(args.hidden_dims) if args.hidden_dims else None,
            dropout=args.dropout, seed=args.seed, device=args.device,
            samples=SampleConfig(negatives_per_positive=args.negatives, hard_ratio=args.hard_ratio,
                                 medium_ratio=args.medium_ratio, val_fraction=args.val_fraction, seed=args.seed),
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.encoder_url:
        if not args.hidden_size:
            parser.error("--encoder-url needs --hidden-size (the embedding width the server returns)")
        from training.ebm.embeddings import HttpEmbedder

        embedder = HttpEmbedder(args.encoder_url, hidden_size=args.hidden_size,
                                backbone_id=args.backbone_id or "deepseek-ai/DeepSeek-Prover-V2-7B")
    else:
        from training.ebm.embeddings import InProcessEmbedder

        embedder = InProcessEmbedder(args.model, device=args.device, backbone_id=args.backbone_id)

    head = None
    if args.init_from:
        from prover.value.checkpoint import load_energy_head
        from prover.value.errors import CheckpointError

        try:
            head = load_energy_head(args.init_from, expected_embedding_dim=embedder.embedding_dim).train()
        except CheckpointError as exc:
            embedder.close()
            print(f"error: {exc}", file=sys.stderr)
            return 2

    def on_metric(name: str, value: float, step: int) -> None:
        if not args.quiet:
            print(f"step {step:>6}  {name:<24} {value:.6g}", file=sys.stderr)

    try:
        result = train_energy_head(args.trajectories, embedder, args.output, config, on_metric=on_metric,
                                   head=head)
    except SampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TemperatureAbortError as exc:
        print(f"aborted: {exc}", file=sys.stderr)
        print(json.dumps({"stop_reason": "temperature_pinned", "steps_done": exc.step, "output": args.output}))
        return 3
    finally:
        embedder.close()
    print(json.dumps({"stop_reason": result.stop_reason, "steps_done": result.steps_done,
                      "output": str(result.output_dir), "final_metrics": result.final_metrics}))
    return 0
