"""Decoupled EBM training: a GoalConditionedEnergyHead on frozen embeddings with InfoNCE.

Every distinct text (goals, positives, negatives, validation children, probe states) is embedded once
up front through an `Embedder`; training then only indexes a matrix. The head owns the temperature
(docs/value-model.md#infonce): `info_nce_loss` gets the head's energies as they are. The temperature is
checked every `temperature_check_every` steps (docs/value-model.md#temperature): healthy in [0.5, 3.0]; at
the clamp floor or ceiling for `temperature_patience_steps` the run stops with `TemperatureAbortError`.
Cancellation is cooperative: `should_cancel()` is asked between steps.

Metric names given to `on_metric(name, value, step)`:
  embed/texts                                                         step 0
  probe/* (training/probes): embedding probes at step 0, all probes with the head at the end
  train/loss, train/rank_accuracy, train/energy_gap, train/lr,
  train/samples_per_s, memory/peak_rss_mb                              every log_every steps
  ebm/temperature, ebm/temperature_healthy (1 in [0.5, 3.0], else 0)   every temperature_check_every steps
  val/loss, val/rank_accuracy, val/energy_gap, val/sibling_rank1, val/sibling_groups,
  val/sibling_rank1_d4plus (when the validation has decision points at depth 4+)   every eval_every + end
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from prover.engine.trajectory import write_atomically
from prover.serving.device_memory import peak_memory_mb
from prover.value.checkpoint import write_checkpoint_folder, write_energy_head_files
from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
from prover.value.losses import info_nce_loss
from prover.value.monitoring import (
    TemperatureHealth,
    energy_gap,
    rank_accuracy,
    sibling_rank1,
    temperature_health,
)
from training.ebm.embeddings import CachedEmbedder, Embedder
from training.ebm.samples import EbmDataset, EbmSample, SampleConfig, build_samples

META_FILENAME = "training_meta.json"
MetricCallback = Callable[[str, float, int], None]


class EbmTrainingError(RuntimeError):
    """EBM training cannot go on."""


class TemperatureAbortError(EbmTrainingError):
    """The head's temperature sat at its clamp floor or ceiling: the energy scale is broken
    (docs/value-model.md#temperature)."""

    def __init__(self, message: str, *, step: int, temperature: float, result: EbmTrainResult | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.temperature = temperature
        self.result = result


@dataclass(frozen=True)
class EbmTrainConfig:
    steps: int = 1000
    batch_size: int = 32
    lr: float = 3e-5
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    warmup_steps: int = 0
    log_every: int = 10
    eval_every: int = 100
    temperature_check_every: int = 50
    temperature_patience_steps: int = 500
    checkpoint_every: int = 0  # 0: only the final checkpoint
    seed: int = 42
    device: str = "cpu"
    embed_batch_size: int = 64
    eval_batch_size: int = 256
    # head shape: None = EnergyHeadConfig.for_embedding_dim (D/2, D/4, D/8)
    hidden_dims: tuple[int, ...] | None = None
    dropout: float = 0.15
    temperature_init: float = 1.0
    samples: SampleConfig = field(default_factory=SampleConfig)

    def __post_init__(self) -> None:
        problems = []
        for name in ("steps", "batch_size", "log_every", "eval_every", "temperature_check_every",
                     "embed_batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name} must be an int >= 1, got {value!r}")
        for name in ("warmup_steps", "checkpoint_every", "temperature_patience_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                problems.append(f"{name} must be an int >= 0, got {value!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            problems.append(f"lr must be positive and finite, got {self.lr!r}")
        if not self.weight_decay >= 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not self.grad_clip > 0:
            problems.append(f"grad_clip must be positive, got {self.grad_clip!r}")
        if self.hidden_dims is not None:
            object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
            if not self.hidden_dims or not all(isinstance(h, int) and h >= 1 for h in self.hidden_dims):
                problems.append(f"hidden_dims must be positive ints, got {self.hidden_dims!r}")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not isinstance(self.samples, SampleConfig):
            problems.append("samples must be a SampleConfig")
        if problems:
            raise ValueError("invalid EbmTrainConfig: " + "; ".join(problems))

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.hidden_dims is not None:
            data["hidden_dims"] = list(self.hidden_dims)
        return data


@dataclass
class EbmTrainResult:
    stop_reason: str  # "completed" | "cancelled" | "temperature_pinned"
    steps_done: int
    output_dir: Path
    checkpoint_dir: Path | None
    final_metrics: dict[str, float]
    head: GoalConditionedEnergyHead | None  # None when cancelled before the head was built
    dataset: EbmDataset


class _Tensors:
    """Samples as index tensors into the embedding matrix."""

    def __init__(self, samples: list[EbmSample], index: dict[str, int]) -> None:
        self.goal = torch.tensor([index[s.goal] for s in samples], dtype=torch.long)
        self.positive = torch.tensor([index[s.positive] for s in samples], dtype=torch.long)
        self.negatives = torch.tensor([[index[t] for t in s.negatives] for s in samples], dtype=torch.long)

    def __len__(self) -> int:
        return int(self.goal.shape[0])


def _energies(head: GoalConditionedEnergyHead, matrix: torch.Tensor, rows: torch.Tensor,
              data: _Tensors) -> tuple[torch.Tensor, torch.Tensor]:
    goal = matrix[data.goal[rows]]
    pos = head(matrix[data.positive[rows]], goal)
    neg_idx = data.negatives[rows]
    b, k = neg_idx.shape
    neg = head(matrix[neg_idx.reshape(-1)], goal.repeat_interleave(k, dim=0)).reshape(b, k)
    return pos, neg


def _evaluate(head, matrix, data: _Tensors, dataset: EbmDataset, index: dict[str, int],
              config: EbmTrainConfig) -> dict[str, float]:
    metrics: dict[str, float] = {}
    was_training = head.training
    head.eval()
    with torch.no_grad():
        if len(data):
            pos_all, neg_all, losses = [], [], []
            for start in range(0, len(data), config.eval_batch_size):
                rows = torch.arange(start, min(start + config.eval_batch_size, len(data)))
                pos, neg = _energies(head, matrix, rows, data)
                losses.append(float(info_nce_loss(pos, neg)) * len(rows))
                pos_all.append(pos.cpu())
                neg_all.append(neg.cpu())
            pos, neg = torch.cat(pos_all), torch.cat(neg_all)
            metrics["val/loss"] = sum(losses) / len(data)
            metrics["val/rank_accuracy"] = rank_accuracy(pos, neg)
            metrics["val/energy_gap"] = energy_gap(pos, neg)
        if dataset.rank_children:
            children = dataset.rank_children
            states = matrix[torch.tensor([index[c.text] for c in children])]
            goals = matrix[torch.tensor([index[c.goal] for c in children])]
            energies = head(states, goals).reshape(-1).cpu().tolist()
            value, groups = sibling_rank1([c.parent for c in children], energies, [c.positive for c in children])
            metrics["val/sibling_rank1"] = value
            metrics["val/sibling_groups"] = float(groups)
            deep = [i for i, c in enumerate(children) if c.depth >= 4]
            value, groups = sibling_rank1([children[i].parent for i in deep], [energies[i] for i in deep],
                                          [children[i].positive for i in deep])
            if groups:
                metrics["val/sibling_rank1_d4plus"] = value
    head.train(was_training)
    return metrics


def _probe_set(trajectories, samples: SampleConfig):
    from training.probes import ProbeSetError, build_probe_set

    try:
        return build_probe_set(trajectories, per_class=samples.probe_per_class, seed=samples.seed,
                               min_depth=samples.probe_min_depth)
    except ProbeSetError:
        return None  # nothing to probe (e.g. no deep states of both labels); training goes on


def _meta_text(meta: dict) -> str:
    return json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"


def _write_meta(directory: Path, meta: dict) -> None:
    """The meta of a run that stopped without a checkpoint (cancelled, temperature pinned)."""
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(directory / META_FILENAME, lambda tmp: tmp.write_text(_meta_text(meta), encoding="utf-8"))


def train_energy_head(
    trajectories: list[str | os.PathLike],
    embedder: Embedder,
    output_dir: str | os.PathLike,
    config: EbmTrainConfig | None = None,
    *,
    on_metric: MetricCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    head: GoalConditionedEnergyHead | None = None,
) -> EbmTrainResult:
    """Train a head on `trajectories`; the final checkpoint goes to `output_dir` (weights, config, meta).

    `head` continues training an existing head (its embedding width must match the embedder's).
    Returns the result on completion or cancellation; raises TemperatureAbortError on a pinned temperature
    (after writing `training_meta.json` with stop_reason "temperature_pinned").
    """
    config = config or EbmTrainConfig()
    output_dir = Path(output_dir)
    emit = on_metric or (lambda name, value, step: None)
    cancelled = should_cancel or (lambda: False)
    started = time.time()
    torch.manual_seed(config.seed)
    device = torch.device(config.device)

    dataset = build_samples(trajectories, config.samples)
    cached = embedder if isinstance(embedder, CachedEmbedder) else CachedEmbedder(embedder,
                                                                                    batch_size=config.embed_batch_size)
    texts = dataset.texts()
    chunks = []
    chunk_size = config.embed_batch_size * 8
    for start in range(0, len(texts), chunk_size):
        if cancelled():  # embedding a large run's states over HTTP takes a while
            _write_meta(output_dir, {"kind": "ebm", "stop_reason": "cancelled", "steps_done": 0,
                                     "data": dataset.files, "split": dataset.split})
            return EbmTrainResult("cancelled", 0, output_dir, None, {}, head, dataset)
        chunks.append(cached.embed(texts[start:start + chunk_size]))
    emit("embed/texts", float(len(texts)), 0)
    matrix = torch.cat(chunks).to(device)
    index = {text: i for i, text in enumerate(texts)}
    dim = int(matrix.shape[1])

    if head is None:
        overrides = {"dropout": config.dropout, "temperature_init": config.temperature_init,
                     "backbone_id": embedder.backbone_id}
        if config.hidden_dims is not None:
            head_config = EnergyHeadConfig(embedding_dim=dim, hidden_dims=config.hidden_dims, **overrides)
        else:
            head_config = EnergyHeadConfig.for_embedding_dim(dim, **overrides)
        head = GoalConditionedEnergyHead(head_config)
    elif head.config.embedding_dim != dim:
        raise EbmTrainingError(f"the head takes {head.config.embedding_dim}-wide embeddings but the embedder "
                               f"({embedder.backbone_id!r}) gives {dim}-wide ones")
    head.to(device).train()

    final: dict[str, float] = {}
    probe_set = _probe_set(trajectories, config.samples)

    def run_probes(step: int, with_head: bool) -> None:
        # training/probes: the same probes, on the same kind of probe set, as every other checkpoint
        if probe_set is None:
            return
        from training.probes import compute_probes

        for name, value in compute_probes(cached.embed, probe_set, heads={"": head} if with_head else None).items():
            final[name] = value
            emit(name, value, step)

    run_probes(0, with_head=False)

    train_data = _Tensors(dataset.train, index)
    val_data = _Tensors(dataset.validation, index)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def lr_factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        span = max(1, config.steps - config.warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - config.warmup_steps) / span)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    generator = torch.Generator().manual_seed(config.seed)

    def meta(stop_reason: str, steps_done: int) -> dict:
        return {
            "kind": "ebm", "stop_reason": stop_reason, "steps_done": steps_done, "steps_planned": config.steps,
            "backbone_id": embedder.backbone_id, "embedding_dim": dim,
            "embedding_text_format": head.config.embedding_text_format,
            "data": dataset.files, "split": dataset.split,
            "samples": {"train": len(dataset.train), "validation": len(dataset.validation),
                        "texts_embedded": len(texts), "rank_children": len(dataset.rank_children)},
            "config": config.to_dict(), "head_config": head.config.to_dict(),
            "final_metrics": dict(final), "started_at": started, "finished_at": time.time(),
        }

    def save(directory: Path, stop_reason: str, steps_done: int) -> Path:
        def write(staging: Path) -> None:  # head and meta replace the previous ones together
            write_energy_head_files(head, staging)
            (staging / META_FILENAME).write_text(_meta_text(meta(stop_reason, steps_done)), encoding="utf-8")

        return write_checkpoint_folder(directory, write)

    pinned_since: int | None = None
    step = 0
    window_start, window_step = time.perf_counter(), 0
    while step < config.steps:
        if cancelled():
            _write_meta(output_dir, meta("cancelled", step))
            return EbmTrainResult("cancelled", step, output_dir, None, final, head, dataset)
        rows = torch.randint(0, len(train_data), (config.batch_size,), generator=generator)
        pos, neg = _energies(head, matrix, rows, train_data)
        loss = info_nce_loss(pos, neg)
        if not torch.isfinite(loss):
            raise EbmTrainingError(f"step {step + 1}: loss is {float(loss)} (check grad clipping and the temperature)")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1

        if step % config.log_every == 0 or step == config.steps:
            with torch.no_grad():
                values = {"train/loss": float(loss), "train/rank_accuracy": rank_accuracy(pos, neg),
                          "train/energy_gap": energy_gap(pos, neg), "train/lr": scheduler.get_last_lr()[0]}
            elapsed = max(time.perf_counter() - window_start, 1e-9)
            values["train/samples_per_s"] = (step - window_step) * config.batch_size / elapsed
            values.update({f"memory/{k}": v for k, v in peak_memory_mb(str(device)).items()})
            window_start, window_step = time.perf_counter(), step
            for name, value in values.items():
                final[name] = value
                emit(name, value, step)
        if step % config.temperature_check_every == 0 or step == config.steps:
            tau = float(head.temperature.detach())
            final["ebm/temperature"] = tau
            emit("ebm/temperature", tau, step)
            health = temperature_health(tau, minimum=head.config.temperature_min, maximum=head.config.temperature_max)
            emit("ebm/temperature_healthy", float(health is TemperatureHealth.HEALTHY), step)
            if health is TemperatureHealth.PINNED_AT_BOUND:
                pinned_since = step if pinned_since is None else pinned_since
                if step - pinned_since >= config.temperature_patience_steps:
                    _write_meta(output_dir, meta("temperature_pinned", step))
                    result = EbmTrainResult("temperature_pinned", step, output_dir, None, final, head, dataset)
                    bound = "floor" if tau < 1 else "ceiling"
                    raise TemperatureAbortError(
                        f"step {step}: EBM temperature {tau:.4g} has sat at the clamp {bound} "
                        f"[{head.config.temperature_min}, {head.config.temperature_max}] since step {pinned_since}: "
                        "the energy scale is broken; aborting (docs/value-model.md#temperature)",
                        step=step, temperature=tau, result=result)
            else:
                pinned_since = None
        if step % config.eval_every == 0 or step == config.steps:
            for name, value in _evaluate(head, matrix, val_data, dataset, index, config).items():
                final[name] = value
                emit(name, value, step)
        if config.checkpoint_every and step % config.checkpoint_every == 0 and step < config.steps:
            save(output_dir / f"step_{step}", "checkpoint", step)

    run_probes(step, with_head=True)
    checkpoint = save(output_dir, "completed", step)
    return EbmTrainResult("completed", step, output_dir, checkpoint, final, head.eval(), dataset)
