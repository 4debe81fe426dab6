"""EBM scoring throughput: states scored per second through the scorer, against a plain torch forward.

    python bench/ebm_scoring.py                                    # CPU, production-size head (4096), float32
    python bench/ebm_scoring.py --device cuda --dtype float32 bfloat16

Embeddings are given as a CPU tensor (what /encode hands over), so no HTTP is timed. Three paths, each
from the same CPU tensor to a Python list of energies:
  baseline  plain torch: F.linear/SiLU chain over the head's already-normalised weights, inference_mode,
            input moved to the device, result copied back. The least any implementation can do.
  scorer    EnergyScorer.score_embeddings: the scorer's forward path (checks, chunking, finite check).
  score()   await InProcessEnergyScorer.score(states, goal) inside a running event loop: the whole scorer
            path of a search round minus HTTP (text formatting, embedding checks, async).
With --embeddings-on-device the input tensor starts on the device instead.
Ratio = path throughput / baseline throughput, measured interleaved in the same run (target >= 0.9 batched).
Each figure is the best of `calls` timed calls per path (st/s = batch / best seconds per call).
On a shared CPU box, tiny tensor ops in a multi-threaded torch stall while the other core is busy, which
hits score() at batch 1 hardest; OMP_NUM_THREADS=1 separates that from the scorer's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead  # noqa: E402
from prover.value.scorer import InProcessEnergyScorer  # noqa: E402

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line(device: torch.device) -> str:
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "none"
    return (
        f"machine: CPU {cpu_model()}, {os.cpu_count()} cores (torch threads {torch.get_num_threads()}), "
        f"torch {torch.__version__}, GPU {gpu}"
    )


def plain_forward(head: GoalConditionedEnergyHead) -> Callable[[torch.Tensor, torch.Tensor], list[float]]:
    """The head's math as bare torch ops over weights normalised once, outside the timed region."""
    with torch.inference_mode():
        weights = [(layer.effective_weight().detach(), layer.bias) for layer in head.layers]
        temperature = head.temperature.detach()
    param = head.log_temperature
    device, dtype = param.device, param.dtype

    def run(states: torch.Tensor, goal: torch.Tensor) -> list[float]:
        with torch.inference_mode():
            s = states.to(device=device, dtype=dtype)
            g = goal.to(device=device, dtype=dtype).expand_as(s)
            x = torch.cat((s, g, s * g), dim=-1)
            for weight, bias in weights[:-1]:
                x = F.silu(F.linear(x, weight, bias))
            energy = F.linear(x, weights[-1][0]) / temperature.to(dtype)
            return energy.reshape(-1).float().cpu().tolist()

    return run


def timed(call: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def measure(
    paths: dict[str, Callable[[], object]], device: torch.device, budget_s: float, min_rounds: int
) -> tuple[dict[str, float], int]:
    """Best (least) seconds per call of each path. The paths take turns so drift hits them all alike; the
    best rather than the median because this machine is shared and other work only ever adds time."""
    for call in paths.values():  # warm-up: allocator, kernels, the scorer's weight cache
        call()
        call()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    deadline = time.perf_counter() + budget_s
    rounds = 0
    while rounds < min_rounds or (time.perf_counter() < deadline and rounds < 200):
        for name, call in paths.items():
            samples[name].append(timed(call, device))
        rounds += 1
    return {name: min(values) for name, values in samples.items()}, rounds


def bench_dtype(args: argparse.Namespace, device: torch.device, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    config = EnergyHeadConfig.for_embedding_dim(args.embedding_dim) if args.embedding_dim != 4096 else EnergyHeadConfig()
    head = GoalConditionedEnergyHead(config).to(device=device, dtype=dtype).eval()
    n_params = sum(p.numel() for p in head.parameters())
    largest = max(args.batches)
    # Host memory is where /encode replies land; --embeddings-on-device isolates the head from the copy.
    where = device if args.embeddings_on_device else torch.device("cpu")
    all_states = torch.randn(largest, config.embedding_dim).to(where)
    goal = torch.randn(config.embedding_dim).to(where)
    print(f"\nhead: embedding_dim {config.embedding_dim}, hidden {list(config.hidden_dims)}, "
          f"{n_params / 1e6:.2f}M params, {dtype}, device {device}, embeddings given on {where}")
    texts = [f"state {i}" for i in range(largest)]
    # score() asks for [goal, *states]; hand back a tensor built beforehand, so no embedding work is timed.
    prebuilt = {n + 1: torch.cat((goal.unsqueeze(0), all_states[:n])) for n in args.batches}

    def lookup(batch: Sequence[str]) -> torch.Tensor:
        if batch[0] != "goal" or batch[-1] != texts[len(batch) - 2]:
            raise SystemExit("bench bug: embedding lookup asked for unexpected texts")
        return prebuilt[len(batch)]

    scorer = InProcessEnergyScorer(head, lookup)
    baseline = plain_forward(head)
    loop = asyncio.new_event_loop()
    try:
        check = torch.tensor(baseline(all_states[:8], goal))
        got = torch.tensor(scorer.score_embeddings(all_states[:8], goal))
        tolerance = 1e-3 if dtype == torch.float32 else 5e-2
        if not torch.allclose(check, got, rtol=tolerance, atol=tolerance):
            raise SystemExit(f"scorer and baseline disagree: {check.tolist()} vs {got.tolist()}")

        print(f"{'batch':>6} {'baseline st/s':>14} {'scorer st/s':>12} {'ratio':>6} {'score() st/s':>13} {'ratio':>6} {'calls':>6}")
        for batch in args.batches:
            states = all_states[:batch].contiguous()
            batch_texts = texts[:batch]
            paths = {
                "baseline": lambda s=states: baseline(s, goal),
                "scorer": lambda s=states: scorer.score_embeddings(s, goal),
                "score": lambda t=batch_texts: loop.run_until_complete(scorer.score(t, "goal")),
            }
            seconds, rounds = measure(paths, device, args.seconds_per_batch, args.min_rounds)
            rate = {name: batch / s for name, s in seconds.items()}
            print(
                f"{batch:>6} {rate['baseline']:>14.1f} {rate['scorer']:>12.1f} {rate['scorer'] / rate['baseline']:>6.2f} "
                f"{rate['score']:>13.1f} {rate['score'] / rate['baseline']:>6.2f} {rounds:>6}"
            )
    finally:
        loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument("--dtype", nargs="+", default=["float32"], choices=sorted(DTYPES))
    parser.add_argument("--embedding-dim", type=int, default=4096, help="backbone width (4096 = DeepSeek-Prover-V2-7B)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--seconds-per-batch", type=float, default=8.0, help="time budget per batch size and dtype")
    parser.add_argument("--min-rounds", type=int, default=8)
    parser.add_argument("--embeddings-on-device", action="store_true", help="input tensors already on --device")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch sees no CUDA device")
    print("bench/ebm_scoring.py: EBM scoring throughput (states scored per second, st/s)")
    print(machine_line(device))
    for name in args.dtype:
        bench_dtype(args, device, DTYPES[name])


if __name__ == "__main__":
    main()
