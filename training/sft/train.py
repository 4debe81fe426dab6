"""The LoRA SFT loop: peft adapter over a transformers causal LM, AdamW, linear warmup then linear decay,
gradient accumulation, periodic validation loss, a metrics callback and a cooperative cancel flag.

The checkpoint is the adapter folder (``save_pretrained``: what ``python -m prover.serving --adapter DIR``
loads) plus ``training_meta.json`` (base model, prompt format, data files with hashes, split, steps, losses,
versions). Defaults follow BurnQED's SFT (r 32, alpha 64, dropout 0.05, attention + MLP projections;
docs/training.md#lora-defaults).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prover.policy.prompts import DEFAULT_PROMPT_FORMAT, PROMPT_FORMATS, get_prompt_format
from theorem_data.splits import split_by_name
from training.sft.dataset import IGNORE_INDEX, TokenizedExample, collate, load_examples, tokenize_examples

DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
META_FILE = "training_meta.json"
MetricCallback = Callable[[str, float, int], None]


class SFTConfigError(ValueError):
    """A setting of the SFT run is invalid; the message names it."""


class SFTCancelled(RuntimeError):
    """Raised inside the loop when the cancel flag is seen (caught by train_sft; the result says cancelled)."""


@dataclass
class SFTConfig:
    model_path: str
    data_files: list[str]
    output_dir: str
    prompt_format: str = DEFAULT_PROMPT_FORMAT
    max_steps: int = 1000  # optimizer steps
    batch_size: int = 2
    grad_accum: int = 8
    learning_rate: float = 2e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    warmup_steps: int | None = None  # overrides warmup_ratio when set
    max_grad_norm: float = 1.0
    lora_r: int = 32
    lora_alpha: int = 64
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_TARGET_MODULES))
    max_length: int = 1024
    val_fraction: float = 0.05
    eval_every: int = 100  # optimizer steps; 0 = only at the end
    eval_max_examples: int = 500
    log_every: int = 10
    seed: int = 42
    device: str | None = None  # default: cuda when available, else cpu
    dtype: str | None = None  # "bf16" | "fp32"; default bf16 on CUDA, fp32 on CPU
    gradient_checkpointing: bool = False
    dedupe: bool = True
    init_adapter: str | None = None  # continue training this LoRA adapter (its r/alpha/targets win)

    def validate(self) -> SFTConfig:
        def need(cond: bool, message: str) -> None:
            if not cond:
                raise SFTConfigError(message)

        need(isinstance(self.model_path, str | os.PathLike) and str(self.model_path) != "", "model_path is required")
        need((Path(self.model_path) / "config.json").exists(),
             f"model_path {self.model_path} is not a transformers model folder (no config.json)")
        if isinstance(self.data_files, str | os.PathLike):
            self.data_files = [str(self.data_files)]
        need(len(self.data_files) > 0, "data_files: give at least one JSONL file")
        for path in self.data_files:
            need(Path(path).is_file(), f"data_files: {path} does not exist")
        need(bool(str(self.output_dir)), "output_dir is required")
        try:
            fmt = get_prompt_format(self.prompt_format)
        except ValueError as exc:
            raise SFTConfigError(f"prompt_format: {exc}") from None
        need(fmt.needs == "state", f"prompt_format {fmt.name!r} is not a tactic-state format; "
             f"choose one of {sorted(n for n, f in PROMPT_FORMATS.items() if f.needs == 'state')}")
        self.prompt_format = fmt.name
        for name in ("max_steps", "batch_size", "grad_accum", "lora_r", "lora_alpha", "max_length",
                     "eval_max_examples", "log_every"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                 f"{name} must be an integer >= 1, got {value!r}")
        need(self.max_length >= 8, f"max_length must be at least 8, got {self.max_length}")
        need(isinstance(self.eval_every, int) and self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every!r}")
        need(self.learning_rate > 0 and math.isfinite(self.learning_rate), f"learning_rate must be > 0, got {self.learning_rate}")
        need(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        need(0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        need(self.warmup_steps is None or 0 <= self.warmup_steps <= self.max_steps,
             f"warmup_steps must be in [0, max_steps={self.max_steps}], got {self.warmup_steps}")
        need(self.max_grad_norm > 0, f"max_grad_norm must be > 0, got {self.max_grad_norm}")
        need(0 <= self.lora_dropout < 1, f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        need(0 <= self.val_fraction < 1, f"val_fraction must be in [0, 1), got {self.val_fraction}")
        need(isinstance(self.target_modules, list | tuple) and len(self.target_modules) > 0
             and all(isinstance(m, str) and m for m in self.target_modules),
             f"target_modules must be a non-empty list of module names, got {self.target_modules!r}")
        self.target_modules = list(self.target_modules)
        need(self.init_adapter is None or (Path(self.init_adapter) / "adapter_config.json").exists(),
             f"init_adapter {self.init_adapter} is not a peft adapter folder (no adapter_config.json)")
        need(self.dtype in (None, "bf16", "fp32"), f"dtype must be 'bf16' or 'fp32', got {self.dtype!r}")
        return self

    def resolved_warmup_steps(self) -> int:
        if self.warmup_steps is not None:
            return self.warmup_steps
        return int(round(self.warmup_ratio * self.max_steps))


@dataclass
class SFTResult:
    status: str  # "completed" | "cancelled"
    steps: int
    output_dir: str
    final_train_loss: float | None
    final_val_loss: float | None
    meta: dict


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warmup from 0 to 1 over ``warmup`` steps, then linear decay to 0 at ``total`` (step is 0-based)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    remaining = total - warmup
    if remaining <= 0:
        return 1.0
    return max(0.0, (total - step) / remaining)


def _is_cancelled(cancel: Any) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def _versions() -> dict[str, str]:
    from prover.engine.provenance import package_versions

    return package_versions()


def _resolve_device(config: SFTConfig) -> tuple[str, str]:
    import torch

    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SFTConfigError(f"device {device!r} asked for but CUDA is not available on this machine")
    dtype = config.dtype or ("bf16" if device.startswith("cuda") else "fp32")
    return device, dtype


def _token_loss_sum(model, input_ids, mask, labels):
    """Summed next-token cross-entropy over labelled positions, in float32; and the number of such positions."""
    import torch.nn.functional as F

    logits = model(input_ids=input_ids, attention_mask=mask).logits
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    loss = F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="sum",
    )
    return loss, int((shift_labels != IGNORE_INDEX).sum())


def evaluate(model, items: Sequence[TokenizedExample], *, batch_size: int, pad_id: int, device: str) -> float | None:
    """Mean per-token loss over ``items`` (completion tokens only); None when there is nothing to score."""
    import torch

    if not items:
        return None
    was_training = model.training
    model.eval()
    total = 0.0
    count = 0
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            ids, mask, labels = (t.to(device) for t in collate(items[start : start + batch_size], pad_id))
            loss, n = _token_loss_sum(model, ids, mask, labels)
            total += float(loss)
            count += n
    if was_training:
        model.train()
    return total / count if count else None


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def train_sft(
    config: SFTConfig,
    *,
    on_metric: MetricCallback | None = None,
    cancel: Any = None,
    log: Callable[[str], None] | None = None,
) -> SFTResult:
    """Run LoRA SFT as ``config`` says and save the adapter + training_meta.json in ``config.output_dir``.

    ``on_metric(name, value, step)`` receives ``train_loss``, ``lr``, ``tokens_per_s`` every ``log_every``
    optimizer steps and ``val_loss`` every ``eval_every`` steps and at the end. ``cancel`` is a
    ``threading.Event``-like object or a zero-argument callable, checked before every optimizer step; a
    cancelled run still saves what it learnt, and its result and meta say ``cancelled``.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prover.serving.model_loading import pad_token_id

    config.validate()
    emit = on_metric or (lambda name, value, step: None)
    say = log or (lambda message: None)
    device, dtype = _resolve_device(config)
    random.seed(config.seed)
    torch.manual_seed(config.seed)

    loaded = load_examples(config.data_files, config.prompt_format, dedupe=config.dedupe)
    if not loaded.examples:
        raise SFTConfigError("no training examples left after the sorry filter: "
                             f"{len(loaded.rejected_theorems)} theorems rejected")
    train_examples, val_examples = split_by_name(loaded.examples, lambda e: e.theorem, config.val_fraction)
    if not train_examples:
        raise SFTConfigError(f"the split by theorem name left no training examples (val_fraction {config.val_fraction})")
    tokenizer = AutoTokenizer.from_pretrained(config.model_path)
    train_items, train_counts = tokenize_examples(tokenizer, train_examples, config.prompt_format, max_length=config.max_length)
    val_items, val_counts = tokenize_examples(tokenizer, val_examples, config.prompt_format, max_length=config.max_length)
    if not train_items:
        raise SFTConfigError(f"every training example is longer than max_length={config.max_length} in its prompt alone")
    if len(val_items) > config.eval_max_examples:
        val_items = random.Random(config.seed).sample(val_items, config.eval_max_examples)
    pad_id = pad_token_id(tokenizer)
    say(f"{len(train_items)} train / {len(val_items)} validation examples "
        f"({len(loaded.rejected_theorems)} theorems rejected by the sorry filter)")

    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(config.model_path, dtype=torch_dtype)
    model.config.use_cache = False
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [m for m in config.target_modules if m not in present]
    if missing:
        linear = sorted({n.rsplit(".", 1)[-1] for n, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)})
        raise SFTConfigError(f"target_modules {missing} are not modules of this model; its linear layers are {linear}")
    model.to(device)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    if config.init_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, config.init_adapter, is_trainable=True)
    else:
        lora = LoraConfig(
            r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            target_modules=config.target_modules, bias="none", task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.ndim >= 2]
    no_decay = [p for p in trainable if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    warmup = config.resolved_warmup_steps()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, config.max_steps))

    order_rng = random.Random(config.seed)
    order: list[int] = []

    def next_batch() -> list[TokenizedExample]:
        batch = []
        while len(batch) < config.batch_size:
            if not order:
                order.extend(order_rng.sample(range(len(train_items)), len(train_items)))
            batch.append(train_items[order.pop()])
        return batch

    history: dict[str, list[tuple[int, float]]] = {"train_loss": [], "val_loss": []}
    step = 0
    status = "completed"
    last_train: float | None = None
    last_val: float | None = None
    window_loss = 0.0
    window_tokens = 0
    window_seen = 0
    window_start = time.perf_counter()
    try:
        while step < config.max_steps:
            if _is_cancelled(cancel):
                raise SFTCancelled
            micro = [next_batch() for _ in range(config.grad_accum)]
            label_total = sum(sum(1 for x in it.labels[1:] if x != IGNORE_INDEX) for b in micro for it in b)
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for batch in micro:
                ids, mask, labels = (t.to(device) for t in collate(batch, pad_id))
                loss_sum, _ = _token_loss_sum(model, ids, mask, labels)
                (loss_sum / max(label_total, 1)).backward()
                step_loss += float(loss_sum.detach())
                window_seen += int(mask.sum())
            torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            mean_loss = step_loss / max(label_total, 1)
            if not math.isfinite(mean_loss):
                raise FloatingPointError(f"training loss is {mean_loss} at step {step}; lower the learning rate")
            window_loss += step_loss
            window_tokens += label_total
            if step % config.log_every == 0 or step == config.max_steps:
                elapsed = max(time.perf_counter() - window_start, 1e-9)
                last_train = window_loss / max(window_tokens, 1)
                history["train_loss"].append((step, last_train))
                emit("train_loss", last_train, step)
                emit("lr", lr, step)
                emit("tokens_per_s", window_seen / elapsed, step)
                say(f"step {step}/{config.max_steps} loss {last_train:.4f} lr {lr:.3g} {window_seen / elapsed:.0f} tok/s")
                window_loss = 0.0
                window_tokens = window_seen = 0
                window_start = time.perf_counter()
            if config.eval_every and step % config.eval_every == 0 and step < config.max_steps and val_items:
                last_val = evaluate(model, val_items, batch_size=config.batch_size, pad_id=pad_id, device=device)
                if last_val is not None:
                    history["val_loss"].append((step, last_val))
                    emit("val_loss", last_val, step)
                    say(f"step {step} val_loss {last_val:.4f}")
    except SFTCancelled:
        status = "cancelled"
        say(f"cancelled at step {step}")
    if window_tokens:  # steps since the last log
        last_train = window_loss / window_tokens
        history["train_loss"].append((step, last_train))
        emit("train_loss", last_train, step)
    if val_items and status == "completed":
        last_val = evaluate(model, val_items, batch_size=config.batch_size, pad_id=pad_id, device=device)
        if last_val is not None:
            history["val_loss"].append((step, last_val))
            emit("val_loss", last_val, step)

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    meta = {
        "kind": "lora-sft",
        "status": status,
        "base_model": str(Path(config.model_path).resolve()),
        "init_adapter": str(Path(config.init_adapter).resolve()) if config.init_adapter else None,
        "prompt_format": config.prompt_format,
        "bos_in_text": get_prompt_format(config.prompt_format).bos_in_text,
        "data_files": loaded.files,
        "split": {"by": "theorem_name", "val_fraction": config.val_fraction,
                  "train_theorems": len({e.theorem for e in train_examples}),
                  "val_theorems": len({e.theorem for e in val_examples})},
        "examples": {"train": train_counts, "val": val_counts, "val_scored": len(val_items),
                     "duplicates_dropped": loaded.duplicates},
        "rejected_theorems": loaded.rejected_theorems,
        "steps": step,
        "max_steps": config.max_steps,
        "final_train_loss": last_train,
        "final_val_loss": last_val,
        "history": {k: [[s, v] for s, v in pts] for k, pts in history.items()},
        "trainable_parameters": int(sum(p.numel() for p in trainable)),
        "device": device,
        "dtype": dtype,
        "config": {k: v for k, v in asdict(config).items()},
        "versions": _versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_json(out / META_FILE, meta)
    return SFTResult(status=status, steps=step, output_dir=str(out), final_train_loss=last_train,
                     final_val_loss=last_val, meta=meta)


def read_meta(adapter_dir: str | Path) -> dict:
    path = Path(adapter_dir) / META_FILE
    if not path.exists():
        raise FileNotFoundError(f"{adapter_dir} has no {META_FILE}: not an SFT checkpoint")
    return json.loads(path.read_text(encoding="utf-8"))
