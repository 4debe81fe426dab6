"""Run by torchrun (2 CPU processes, gloo) from test_data_parallel.py: the gradient of a LoRA step computed
over shares of a batch and summed across processes equals the gradient one process computes over the batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.training import sft_helpers  # noqa: E402
from training.data_parallel import join_from_env, leave, my_share, sum_across, sum_gradients  # noqa: E402
from training.sft.dataset import IGNORE_INDEX, collate  # noqa: E402
from training.sft.train import _token_loss_sum  # noqa: E402


def labels_in(items) -> int:
    return sum(sum(1 for x in it.labels[1:] if x != IGNORE_INDEX) for it in items)


def main(out: str, model_dir: str) -> None:
    workers = join_from_env("cpu")
    sft_helpers.tiny_model_dir = lambda: Path(model_dir)  # the model the test built, the same in both processes
    from tests.training.test_sft_memory import examples, lora_model

    items = examples(6)
    model = lora_model()
    trainable = [p for p in model.parameters() if p.requires_grad]

    # One process over the whole batch.
    loss_sum, _ = _token_loss_sum(model, *collate(items, 0))
    (loss_sum / labels_in(items)).backward()
    whole = [p.grad.clone() for p in trainable]
    model.zero_grad(set_to_none=True)

    # This process's share (every other example), normalised by every process's labels, then summed.
    order = iter(range(len(items)))
    mine = [items[my_share(workers, lambda: next(order))] for _ in range(len(items) // workers.size)]
    [total] = sum_across(workers, [labels_in(mine)], "cpu")
    loss_sum, _ = _token_loss_sum(model, *collate(mine, 0))
    (loss_sum / total).backward()
    sum_gradients(workers, trainable)
    difference = max(float((p.grad - g).abs().max()) for p, g in zip(trainable, whole, strict=True))
    scale = max(float(g.abs().max()) for g in whole)
    Path(out, f"rank{workers.rank}.json").write_text(json.dumps(
        {"rank": workers.rank, "size": workers.size, "difference": difference, "scale": scale,
         "share": [items.index(it) for it in mine]}))
    leave(workers)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
