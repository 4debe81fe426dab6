"""Data parallelism for the training loops when they run under `torchrun` (one process per GPU, or per CPU
group with gloo): every process draws the same seeded batch order and takes every `size`-th batch, gradients
are summed across processes before the optimizer step, and loss normalisers are global, so a step over N
processes is the step one process would take over the union of their batches (docs/training.md#more-than-one-gpu).

Gradients are summed by hand rather than through DistributedDataParallel: a loop step runs several
forwards (grad accumulation, forwards cut to a token budget), and LoRA leaves few trainable tensors, so one
flattened all-reduce per step is all DDP would do here, without its per-forward hooks and `no_sync` bookkeeping.
Without torchrun (WORLD_SIZE unset or 1) every function here is a no-op and nothing touches torch.distributed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Workers:
    """This process's place among the processes training together."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """The one process that logs, emits metrics and saves the checkpoint."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.size > 1


def join_from_env(device: str) -> Workers:
    """Join the process group torchrun describes in the environment (NCCL on CUDA, else gloo); on CUDA this
    process's `cuda` is then the GPU of its LOCAL_RANK. One process alone gets Workers() and no group."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return Workers()
    import torch
    import torch.distributed as dist

    if device.startswith("cuda"):
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return Workers(rank=dist.get_rank(), size=dist.get_world_size())


def leave(workers: Workers) -> None:
    if workers.parallel:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def my_share(workers: Workers, take: Callable[[], T]) -> T:
    """Call `take` once per process (every process calls it in the same order, from the same seeded source)
    and keep this process's item: process r gets the r-th of each group of `size` items."""
    group = [take() for _ in range(workers.size)]
    return group[workers.rank]


def sum_across(workers: Workers, values: Sequence[float], device: str) -> list[float]:
    """The element-wise sum of `values` over every process (the values themselves alone)."""
    if not workers.parallel:
        return list(values)
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def any_across(workers: Workers, flag: bool, device: str) -> bool:
    """True on every process when it is true on any: a cancel seen by one stops all at the same step."""
    return sum_across(workers, [1.0 if flag else 0.0], device)[0] > 0


def sum_gradients(workers: Workers, parameters: Iterable) -> None:
    """Replace every trainable parameter's gradient by its sum over the processes, in one flat all-reduce
    (a parameter without a gradient on this process counts as zero there)."""
    if not workers.parallel:
        return
    import torch
    import torch.distributed as dist

    params = [p for p in parameters if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1).to(torch.float32) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for p, g in zip(params, grads, strict=True):
        n = g.numel()
        p.grad = flat[offset : offset + n].view_as(g).to(g.dtype)
        offset += n
