"""The joint loop: LoRA SFT cross-entropy plus lambda times InfoNCE of a goal-conditioned EBM head, with the
SFT sequences and the (state, goal) texts in one forward of the backbone (docs/joint-training.md).

Each optimizer step takes `batch_size` SFT examples (training/sft's dataset, completion-only mask, split by
theorem name) and `contrastive_batch_size` EBM samples (training/ebm's samples: K negatives, 60% siblings,
30% same theorem, 10% other theorems). The SFT rows and every text that carries a gradient (goal, positive,
hard and medium negatives) are right-padded into one batch and go through the decoder once; easy negatives
are embedded in a second forward without gradient (detached). Embeddings are the masked mean of the last
hidden state (the pooling the encode server uses). loss = sft_weight * CE + contrastive_weight * InfoNCE;
InfoNCE has no temperature (the head divides by its own). One backward updates LoRA (lr_lora) and the head
(lr_ebm).

Metrics to `on_metric(name, value, step)`:
  joint/sft_loss, joint/infonce_loss, joint/loss, train_loss (= the SFT part, for the SFT curves), lr,
  joint/rank_accuracy, joint/energy_gap, tokens_per_s, step_s, peak_rss_mb (cuda_peak_mb)  every log_every
  ebm/temperature, ebm/temperature_healthy                                             every temperature_check_every
  probe/* (training/probes, with the joint head)                                     every probe_every and at the end
  flag/nan_step, flag/temperature_pinned, flag/centroid_low, flag/sft_loss_high, flag/suggested_lambda
BurnQED's abort conditions (docs/joint-training.md#abort-conditions): a non-finite loss skips the step
(flag/nan_step) and `max_nan_steps` in a row stop the run; the temperature at its clamp for
`temperature_patience_steps` stops it; after `warmup_checks_after` steps, centroid_l2 < 3 is flagged with the
suggestion lambda = 0.3 and an SFT loss > 0.5 with lambda = 0.03 (flags only: the researcher decides).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from prover.policy.prompts import DEFAULT_PROMPT_FORMAT
from prover.serving.device_memory import peak_memory_mb
from theorem_data.splits import split_by_name
from training.sft.dataset import IGNORE_INDEX, load_examples, tokenize_examples
from training.sft.train import (
    DEFAULT_TARGET_MODULES,
    SFTConfig,
    SFTConfigError,
    _is_cancelled,
    _projects_logits_plainly,
    _resolve_device,
    _versions,
    build_lora_model,
    length_bucketed_order,
    lr_factor,
    write_json,
)

META_FILE = "training_meta.json"
HEAD_DIR = "ebm_head"  # the head's checkpoint folder inside the run's output (what a run's ebm_path loads)
CENTROID_RED_LINE = 3.0
SFT_LOSS_RED_LINE = 0.5
LAMBDA_IF_COLLAPSING = 0.3
LAMBDA_IF_SFT_SUFFERS = 0.03
MetricCallback = Callable[[str, float, int], None]


class JointConfigError(ValueError):
    """A setting of the joint run is invalid; the message names it."""


class JointAbort(RuntimeError):
    """One of BurnQED's abort conditions held (pinned temperature, repeated non-finite loss)."""


@dataclass
class JointConfig:
    model_path: str
    data_files: list[str]
    trajectory_files: list[str]
    output_dir: str
    prompt_format: str = DEFAULT_PROMPT_FORMAT
    max_steps: int = 1000
    batch_size: int = 4  # SFT examples per step
    contrastive_batch_size: int = 8  # EBM samples (positive + K negatives + goal) per step
    sft_weight: float = 1.0
    contrastive_weight: float = 0.1  # lambda
    negatives: int = 3  # K
    hard_ratio: float = 0.6
    medium_ratio: float = 0.3
    lr_lora: float = 2e-5
    lr_ebm: float = 3e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    warmup_steps: int | None = None
    max_grad_norm: float = 1.0
    lora_r: int = 64
    lora_alpha: int = 128
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_TARGET_MODULES))
    init_adapter: str | None = None
    init_head: str | None = None
    max_length: int = 1024
    embed_max_length: int = 512
    val_fraction: float = 0.05
    log_every: int = 10
    probe_every: int = 0  # steps; 0 = probes only at the end
    probe_set: str | None = None  # a saved probe set; None = built from trajectory_files
    temperature_check_every: int = 50
    temperature_patience_steps: int = 500
    warmup_checks_after: int = 2000  # the plan's "after 2K steps" for the centroid and SFT-loss flags
    max_nan_steps: int = 10
    head_hidden_dims: list[int] | None = None  # None: D/2, D/4, D/8
    head_dropout: float = 0.15
    temperature_init: float = 1.0
    seed: int = 42
    device: str | None = None
    dtype: str | None = None
    # None: on for a CPU, off on CUDA. On a CPU the contrastive stream's activations live in the machine's RAM and
    # grow with every state row (docs/joint-training.md#joint-training-memory-on-a-cpu).
    gradient_checkpointing: bool | None = None
    quant: str = "none"  # "nf4": the base in 4-bit (bitsandbytes, CUDA only), as SFT's QLoRA

    def sft_view(self) -> SFTConfig:
        return SFTConfig(
            model_path=self.model_path, data_files=self.data_files, output_dir=self.output_dir,
            prompt_format=self.prompt_format, max_steps=self.max_steps, batch_size=self.batch_size, grad_accum=1,
            learning_rate=self.lr_lora, weight_decay=self.weight_decay, warmup_ratio=self.warmup_ratio,
            warmup_steps=self.warmup_steps, max_grad_norm=self.max_grad_norm, lora_r=self.lora_r,
            lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout, target_modules=self.target_modules,
            max_length=self.max_length, val_fraction=self.val_fraction, log_every=self.log_every, seed=self.seed,
            device=self.device, dtype=self.dtype, gradient_checkpointing=bool(self.gradient_checkpointing),
            init_adapter=self.init_adapter, quant=self.quant)

    def validate(self) -> JointConfig:
        try:
            sft = self.sft_view().validate()
        except SFTConfigError as exc:
            raise JointConfigError(str(exc).replace("learning_rate", "lr_lora")) from None
        self.data_files, self.prompt_format, self.target_modules = sft.data_files, sft.prompt_format, sft.target_modules

        def need(cond: bool, message: str) -> None:
            if not cond:
                raise JointConfigError(message)

        if isinstance(self.trajectory_files, str | os.PathLike):
            self.trajectory_files = [str(self.trajectory_files)]
        need(isinstance(self.trajectory_files, list) and len(self.trajectory_files) > 0,
             "trajectory_files: give at least one trajectory Parquet file")
        for path in self.trajectory_files:
            need(Path(path).is_file(), f"trajectory_files: {path} does not exist")
        for name in ("contrastive_batch_size", "negatives", "embed_max_length", "temperature_check_every",
                     "max_nan_steps"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                 f"{name} must be an integer >= 1, got {value!r}")
        for name in ("probe_every", "temperature_patience_steps", "warmup_checks_after"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                 f"{name} must be an integer >= 0, got {value!r}")
        for name in ("sft_weight", "contrastive_weight"):
            value = getattr(self, name)
            need(isinstance(value, int | float) and value >= 0 and math.isfinite(value), f"{name} must be >= 0, got {value!r}")
        need(self.sft_weight + self.contrastive_weight > 0, "sft_weight and contrastive_weight cannot both be 0")
        need(self.lr_ebm > 0 and math.isfinite(self.lr_ebm), f"lr_ebm must be > 0, got {self.lr_ebm}")
        need(0 <= self.hard_ratio <= 1 and 0 <= self.medium_ratio <= 1 and self.hard_ratio + self.medium_ratio <= 1,
             f"hard_ratio and medium_ratio must be in [0, 1] with a sum <= 1, got {self.hard_ratio}, {self.medium_ratio}")
        need(0 <= self.head_dropout < 1, f"head_dropout must be in [0, 1), got {self.head_dropout}")
        need(self.head_hidden_dims is None or (isinstance(self.head_hidden_dims, list | tuple) and self.head_hidden_dims
             and all(isinstance(h, int) and h >= 1 for h in self.head_hidden_dims)),
             f"head_hidden_dims must be a list of positive ints, got {self.head_hidden_dims!r}")
        need(self.probe_set is None or Path(self.probe_set).is_file(), f"probe_set: {self.probe_set} does not exist")
        need(self.init_head is None or (Path(self.init_head) / "energy_head_config.json").is_file(),
             f"init_head {self.init_head} is not an energy head folder (no energy_head_config.json)")
        return self


@dataclass
class JointResult:
    status: str  # "completed" | "cancelled"
    steps: int
    output_dir: str  # the adapter folder
    head_dir: str
    meta: dict
    final: dict[str, float]


class _Cancelled(Exception):
    pass


def train_joint(config: JointConfig, *, on_metric: MetricCallback | None = None, cancel: Any = None,
                log: Callable[[str], None] | None = None) -> JointResult:
    """Train as `config` says; the adapter goes to output_dir and the head to output_dir/ebm_head."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoTokenizer

    from prover.serving.model_loading import pad_token_id
    from prover.value.checkpoint import load_energy_head, write_checkpoint_folder, write_energy_head_files
    from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead
    from prover.value.losses import info_nce_loss
    from prover.value.monitoring import TemperatureHealth, energy_gap, rank_accuracy, temperature_health
    from training.ebm.samples import SampleConfig, build_samples
    from training.joint.negatives import contrastive_rows
    from training.probes import ProbeSetError, build_probe_set, compute_probes, load_probe_set, model_embedder

    config.validate()
    final: dict[str, float] = {}
    flags: dict[str, float] = {}

    def emit(name: str, value: float, step: int) -> None:
        final[name] = value
        if on_metric is not None:
            on_metric(name, value, step)

    def flag(name: str, value: float, step: int) -> None:
        flags[name] = value
        emit(f"flag/{name}", value, step)

    say = log or (lambda message: None)
    sft = config.sft_view()
    device, dtype, dtype_reason = _resolve_device(sft)
    if config.gradient_checkpointing is None:
        config = replace(config, gradient_checkpointing=device == "cpu")
    random.seed(config.seed)
    torch.manual_seed(config.seed)

    loaded = load_examples(config.data_files, config.prompt_format)
    if not loaded.examples:
        raise JointConfigError("data_files: no training examples left after the sorry filter")
    train_examples, _ = split_by_name(loaded.examples, lambda e: e.theorem, config.val_fraction)
    if not train_examples:
        raise JointConfigError(f"the split by theorem name left no SFT training examples (val_fraction {config.val_fraction})")
    tokenizer = AutoTokenizer.from_pretrained(config.model_path)
    train_items, counts = tokenize_examples(tokenizer, train_examples, config.prompt_format, max_length=config.max_length)
    if not train_items:
        raise JointConfigError(f"every SFT example is longer than max_length={config.max_length} in its prompt alone")
    samples = build_samples(config.trajectory_files, SampleConfig(
        negatives_per_positive=config.negatives, hard_ratio=config.hard_ratio, medium_ratio=config.medium_ratio,
        val_fraction=config.val_fraction, seed=config.seed, stochastic_tiers=True))
    try:
        probe_set = load_probe_set(config.probe_set) if config.probe_set else build_probe_set(
            config.trajectory_files, seed=config.seed)
    except ProbeSetError as exc:
        if config.probe_set:
            raise
        probe_set = None
        say(f"no probes: {exc}")
    pad_id = pad_token_id(tokenizer)

    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    model = build_lora_model(config, device, torch_dtype)
    causal_lm = model.get_base_model()
    if not _projects_logits_plainly(causal_lm):
        raise JointConfigError("the joint loop needs a model whose logits are the output embedding of the last "
                               "hidden state (Llama, Qwen, DeepSeek ...)")
    decoder, lm_head = causal_lm.get_decoder(), causal_lm.get_output_embeddings()
    hidden_size = int(causal_lm.config.hidden_size)
    if config.init_head:
        head = load_energy_head(config.init_head, expected_embedding_dim=hidden_size)
    else:
        overrides = {"dropout": config.head_dropout, "temperature_init": config.temperature_init,
                     "backbone_id": str(Path(config.model_path).resolve())}
        head_config = (EnergyHeadConfig(embedding_dim=hidden_size, hidden_dims=tuple(config.head_hidden_dims), **overrides)
                       if config.head_hidden_dims else EnergyHeadConfig.for_embedding_dim(hidden_size, **overrides))
        head = GoalConditionedEnergyHead(head_config)
    head.to(device).train()
    lora_params = [p for p in model.parameters() if p.requires_grad]
    head_params = list(head.parameters())
    optimizer = torch.optim.AdamW([
        {"params": [p for p in lora_params if p.ndim >= 2], "lr": config.lr_lora, "weight_decay": config.weight_decay},
        {"params": [p for p in lora_params if p.ndim < 2], "lr": config.lr_lora, "weight_decay": 0.0},
        {"params": head_params, "lr": config.lr_ebm, "weight_decay": config.weight_decay},
    ])
    warmup = sft.resolved_warmup_steps()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, config.max_steps))

    order_rng = random.Random(config.seed)
    sample_rng = random.Random(config.seed + 1)
    lengths = [len(item.input_ids) for item in train_items]
    batches: list[list[int]] = []

    def next_sft_batch():
        if not batches:
            batches.extend(length_bucketed_order(lengths, config.batch_size, 50, order_rng))
        return [train_items[i] for i in batches.pop()]

    def token_ids(texts: list[str]) -> list[list[int]]:
        return [list(x)[:config.embed_max_length] for x in tokenizer(texts, add_special_tokens=True)["input_ids"]]

    def padded(rows: list[list[int]]):
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = 1
        return ids.to(device), mask.to(device)

    def pooled(hidden, mask):
        weights = mask.unsqueeze(-1).to(torch.float32)
        return (hidden.to(torch.float32) * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def run_probes(step: int) -> None:
        if probe_set is None:
            return
        embed = model_embedder(model, tokenizer, device=device, max_length=config.embed_max_length)
        for name, value in compute_probes(embed, probe_set, heads={"": head}).items():
            emit(name, value, step)

    def warm_checks(step: int) -> None:
        if step < config.warmup_checks_after:
            return
        centroid = final.get("probe/centroid_l2")
        if centroid is not None and centroid < CENTROID_RED_LINE:
            flag("centroid_low", 1.0, step)
            flag("suggested_lambda", LAMBDA_IF_COLLAPSING, step)
        if final.get("joint/sft_loss", 0.0) > SFT_LOSS_RED_LINE:
            flag("sft_loss_high", 1.0, step)
            flag("suggested_lambda", LAMBDA_IF_SFT_SUFFERS, step)

    step = nan_run = 0
    status = "completed"
    pinned_since: int | None = None
    window = {"sft": 0.0, "nce": 0.0, "n": 0, "tokens": 0}
    window_start = time.perf_counter()
    started = time.time()
    try:
        while step < config.max_steps:
            if _is_cancelled(cancel):
                raise _Cancelled
            sft_batch = next_sft_batch()
            chosen = [samples.train[sample_rng.randrange(len(samples.train))] for _ in range(config.contrastive_batch_size)]
            grad_texts, detached_texts, grad_index, detached_index = contrastive_rows(chosen)
            sft_ids, sft_mask = padded([item.input_ids for item in sft_batch])
            embed_ids, embed_mask = padded(token_ids(grad_texts))
            labels = torch.full(sft_ids.shape, IGNORE_INDEX, dtype=torch.long)
            for row, item in enumerate(sft_batch):
                labels[row, :len(item.labels)] = torch.tensor(item.labels, dtype=torch.long)
            labels = labels.to(device)
            # One forward per stream, each padded to its own longest row: proof states are short and SFT
            # sequences long, and one batch padded to the SFT length kept every state at that length with its
            # gradients (22 GB on a CPU at 4 SFT rows of 512 and 4 contrastive samples, before it was split).
            # Rows are right-padded and attention is causal, so no real token sees a pad: the mask is only
            # needed for pooling (and leaving it out keeps SDPA's causal kernel).
            hidden = decoder(input_ids=sft_ids).last_hidden_state
            shift = labels[:, 1:]
            labelled = shift != IGNORE_INDEX
            logits = lm_head(hidden[:, :-1][labelled]).float()
            sft_loss = F.cross_entropy(logits, shift[labelled]) if bool(labelled.any()) else hidden.sum() * 0.0
            z_grad = pooled(decoder(input_ids=embed_ids).last_hidden_state, embed_mask)
            if detached_texts:
                with torch.no_grad():
                    d_ids, d_mask = padded(token_ids(detached_texts))
                    z_detached = pooled(decoder(input_ids=d_ids).last_hidden_state, d_mask)
            else:
                z_detached = z_grad.new_zeros((0, hidden_size))

            def z(text: str, _g=grad_index, _d=detached_index, _zg=z_grad, _zd=z_detached):
                return _zg[_g[text]] if text in _g else _zd[_d[text]]

            goals = torch.stack([z(s.goal) for s in chosen])
            positive = head(torch.stack([z(s.positive) for s in chosen]), goals)
            k = config.negatives
            negative = head(torch.stack([z(t) for s in chosen for t in s.negatives]),
                            goals.repeat_interleave(k, dim=0)).reshape(len(chosen), k)
            nce = info_nce_loss(positive, negative)
            loss = config.sft_weight * sft_loss + config.contrastive_weight * nce
            optimizer.zero_grad(set_to_none=True)
            if not torch.isfinite(loss):
                nan_run += 1
                flag("nan_step", 1.0, step)
                say(f"step {step}: loss is {float(loss)}; step skipped")
                if nan_run >= config.max_nan_steps:
                    raise JointAbort(f"the loss was not finite for {nan_run} steps in a row (last at step {step}): "
                                     "check gradient clipping and the temperature clamp")
                continue
            nan_run = 0
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params + head_params, config.max_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            window["sft"] += float(sft_loss.detach())
            window["nce"] += float(nce.detach())
            window["n"] += 1
            window["tokens"] += (int(sft_mask.sum()) + int(embed_mask.sum())
                                 + (int(d_mask.sum()) if detached_texts else 0))
            if step % config.log_every == 0 or step == config.max_steps:
                elapsed = max(time.perf_counter() - window_start, 1e-9)
                mean_sft, mean_nce = window["sft"] / window["n"], window["nce"] / window["n"]
                emit("joint/sft_loss", mean_sft, step)
                emit("train_loss", mean_sft, step)
                emit("joint/infonce_loss", mean_nce, step)
                emit("joint/loss", config.sft_weight * mean_sft + config.contrastive_weight * mean_nce, step)
                with torch.no_grad():
                    emit("joint/rank_accuracy", rank_accuracy(positive.detach(), negative.detach()), step)
                    emit("joint/energy_gap", energy_gap(positive.detach(), negative.detach()), step)
                emit("lr", lr, step)
                emit("tokens_per_s", window["tokens"] / elapsed, step)
                emit("step_s", elapsed / window["n"], step)
                for name, value in peak_memory_mb(device).items():
                    emit(name, value, step)
                say(f"step {step}/{config.max_steps} sft {mean_sft:.4f} infonce {mean_nce:.4f} "
                    f"{window['tokens'] / elapsed:.0f} tok/s")
                window = {"sft": 0.0, "nce": 0.0, "n": 0, "tokens": 0}
                window_start = time.perf_counter()
                warm_checks(step)
            if step % config.temperature_check_every == 0 or step == config.max_steps:
                tau = float(head.temperature.detach())
                emit("ebm/temperature", tau, step)
                health = temperature_health(tau, minimum=head.config.temperature_min,
                                            maximum=head.config.temperature_max)
                emit("ebm/temperature_healthy", float(health is TemperatureHealth.HEALTHY), step)
                if health is TemperatureHealth.PINNED_AT_BOUND:
                    pinned_since = step if pinned_since is None else pinned_since
                    if step - pinned_since >= config.temperature_patience_steps:
                        flag("temperature_pinned", 1.0, step)
                        raise JointAbort(f"step {step}: the EBM temperature {tau:.4g} has sat at its clamp since step "
                                         f"{pinned_since}: the energy scale is broken (docs/joint-training.md)")
                else:
                    pinned_since = None
            if config.probe_every and step % config.probe_every == 0 and step < config.max_steps:
                run_probes(step)
    except _Cancelled:
        status = "cancelled"
        say(f"cancelled at step {step}")
    if status == "completed":
        run_probes(step)
        warm_checks(step)

    out = Path(config.output_dir)
    head_dir = out / HEAD_DIR
    meta = {
        "kind": "joint", "status": status, "steps": step, "max_steps": config.max_steps,
        "base_model": str(Path(config.model_path).resolve()),
        "init_adapter": str(Path(config.init_adapter).resolve()) if config.init_adapter else None,
        "prompt_format": config.prompt_format, "data_files": loaded.files, "trajectory_files": samples.files,
        "split": samples.split, "examples": {"sft_train": counts, "contrastive_train": len(samples.train)},
        "head_dir": str(head_dir), "flags": flags, "final_metrics": final,
        "probe_set": probe_set.meta if probe_set is not None else None,
        "trainable_parameters": {"lora": int(sum(p.numel() for p in lora_params)),
                                 "head": int(sum(p.numel() for p in head_params))},
        "device": device, "dtype": dtype, "dtype_reason": dtype_reason, "peak_memory_mb": peak_memory_mb(device),
        "config": asdict(config), "versions": _versions(), "started_at": started, "finished_at": time.time(),
    }

    def write(staging: Path) -> None:  # adapter, head and metas replace the previous ones together
        model.save_pretrained(staging)
        write_energy_head_files(head.eval(), staging / HEAD_DIR)
        write_json(staging / META_FILE, meta)
        write_json(staging / HEAD_DIR / META_FILE, {**meta, "kind": "ebm", "trained_with": "joint", "adapter": str(out)})

    write_checkpoint_folder(out, write)
    return JointResult(status=status, steps=step, output_dir=str(out), head_dir=str(head_dir), meta=meta, final=final)
