"""The LoRA SFT loop: peft adapter over a transformers causal LM, AdamW, linear warmup then linear decay,
gradient accumulation, periodic validation loss, a metrics callback and a cooperative cancel flag.

Memory and speed (docs/sft-memory.md): the vocabulary projection and the loss are computed only at the
positions that have a label (the tactic; the prompt is most of each example and needs no logits), attention
is transformers' SDPA, batches are drawn from length buckets (examples of similar length train together, so
padding costs little), and each optimizer batch runs as forwards of at most ``max_tokens_per_forward`` padded
tokens (the gradient is the same: the loss is a sum over tokens divided by the batch's token count), which
bounds activation memory whatever the batch size. The loop reports ``peak_rss_mb`` (and ``cuda_peak_mb``)
with its other metrics. The dtype follows the device (``prover.serving.precision``) unless set.

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
from prover.serving.device_memory import peak_memory_mb
from theorem_data.splits import split_by_name
from training.data_parallel import any_across, join_from_env, leave, my_share, sum_across, sum_gradients
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
    dtype: str | None = None  # "bf16" | "fp32"; default: bf16 where the device computes it natively, else fp32
    gradient_checkpointing: bool = False
    # Padded tokens per forward/backward; bounds activation memory: with LoRA on the seven projections a
    # token holds ~2 MB of saved activations across SmolLM2's 30 layers in bf16, twice that in fp32
    # (docs/sft-memory.md). None: 1024 in bf16, 512 in fp32.
    max_tokens_per_forward: int | None = None
    bucket_batches: int = 50  # length buckets: examples are sorted by length within windows of this many batches
    dedupe: bool = True
    init_adapter: str | None = None  # continue training this LoRA adapter (its r/alpha/targets win)
    quant: str = "none"  # "nf4": QLoRA, the base in 4-bit NF4 with double quantisation (bitsandbytes, CUDA only)
    # Embedding probes (training/probes) on a saved probe set, every probe_every steps (0: only at the end):
    # embedding collapse happens during SFT, so this is where it is watched (docs/probes.md).
    probe_set: str | None = None
    probe_every: int = 0

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
                     "eval_max_examples", "log_every", "bucket_batches"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                 f"{name} must be an integer >= 1, got {value!r}")
        need(self.max_tokens_per_forward is None or (isinstance(self.max_tokens_per_forward, int)
             and not isinstance(self.max_tokens_per_forward, bool) and self.max_tokens_per_forward >= 1),
             f"max_tokens_per_forward must be an integer >= 1 or None, got {self.max_tokens_per_forward!r}")
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
        need(self.quant in ("none", "nf4"), f"quant must be 'none' or 'nf4', got {self.quant!r}")
        need(self.probe_set is None or Path(self.probe_set).is_file(), f"probe_set: {self.probe_set} does not exist")
        need(isinstance(self.probe_every, int) and not isinstance(self.probe_every, bool) and self.probe_every >= 0,
             f"probe_every must be an integer >= 0, got {self.probe_every!r}")
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


def _resolve_device(config: SFTConfig) -> tuple[str, str, str]:
    """(device, dtype, why that dtype)."""
    import torch

    from prover.serving.precision import choose_dtype

    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SFTConfigError(f"device {device!r} asked for but CUDA is not available on this machine")
    dtype, reason = choose_dtype(config.dtype, device)
    return device, dtype, reason


def _projects_logits_plainly(causal_lm) -> bool:
    """Whether logits are just the output embedding applied to the decoder's last hidden state (Llama, Qwen,
    DeepSeek, GPT-2 ...); models that scale or soft-cap them get the full forward instead."""
    config = causal_lm.config
    return (
        getattr(config, "final_logit_softcapping", None) is None
        and getattr(config, "logit_scale", None) is None
        and hasattr(causal_lm, "get_decoder")
        and causal_lm.get_output_embeddings() is not None
    )


def _token_loss_sum(model, input_ids, mask, labels):
    """Summed next-token cross-entropy over labelled positions, in float32; and the number of such positions.

    Only the labelled positions go through the vocabulary projection: for SmolLM2 (vocabulary 49,152) a
    1024-token prompt's logits alone are 200 MB in float32, and their log-softmax and gradient as much again.
    """
    import torch.nn.functional as F

    shift_labels = labels[:, 1:]
    labelled = shift_labels != IGNORE_INDEX
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    if _projects_logits_plainly(causal_lm):
        # Batches are right-padded, so under the causal mask no real token ever sees a pad: the padding mask
        # changes nothing that is scored. Leaving it out lets SDPA run its causal kernel, which never holds
        # the [rows, heads, length, length] attention matrix (with a mask it fell back to one that does:
        # 7.8 GB at batch 8, length 1024).
        hidden = causal_lm.get_decoder()(input_ids=input_ids).last_hidden_state
        logits = causal_lm.get_output_embeddings()(hidden[:, :-1][labelled]).float()
        loss = F.cross_entropy(logits, shift_labels[labelled], reduction="sum")
    else:
        logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1, :].float()
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), shift_labels.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
        )
    return loss, int(labelled.sum())


def token_budget_chunks(batch: Sequence[TokenizedExample], max_tokens: int) -> list[list[TokenizedExample]]:
    """Split a batch, longest first, into runs whose padded size (rows x longest) stays within `max_tokens`.

    A single example longer than the budget forms a run of its own.
    """
    ordered = sorted(batch, key=lambda item: len(item.input_ids), reverse=True)
    chunks: list[list[TokenizedExample]] = []
    for item in ordered:
        if chunks and len(chunks[-1][0].input_ids) * (len(chunks[-1]) + 1) <= max_tokens:
            chunks[-1].append(item)
        else:
            chunks.append([item])
    return chunks


def length_bucketed_order(lengths: Sequence[int], batch_size: int, window_batches: int, rng: random.Random) -> list[list[int]]:
    """One epoch of batches (lists of indices): shuffled, sorted by length within windows of
    `window_batches` batches, cut into batches, and the batches shuffled again. Every index appears once."""
    order = rng.sample(range(len(lengths)), len(lengths))
    window = batch_size * window_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        part = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def evaluate(model, items: Sequence[TokenizedExample], *, batch_size: int, pad_id: int, device: str) -> float | None:
    """Mean per-token loss over ``items`` (completion tokens only); None when there is nothing to score."""
    import torch

    if not items:
        return None
    was_training = model.training
    model.eval()
    total = 0.0
    count = 0
    ordered = sorted(items, key=lambda item: len(item.input_ids))  # little padding; the mean does not care
    with torch.no_grad():
        for start in range(0, len(ordered), batch_size):
            ids, mask, labels = (t.to(device) for t in collate(ordered[start : start + batch_size], pad_id))
            loss, n = _token_loss_sum(model, ids, mask, labels)
            total += float(loss)
            count += n
    if was_training:
        model.train()
    return total / count if count else None


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def build_lora_model(config, device: str, torch_dtype):
    """The causal LM of ``config.model_path`` on ``device`` with a trainable LoRA adapter (new, or
    ``config.init_adapter`` continued); shared by the SFT and joint loops. ``config`` needs model_path,
    target_modules, gradient_checkpointing, init_adapter, lora_r, lora_alpha, lora_dropout."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    extra = {}
    if getattr(config, "quant", "none") == "nf4":
        if not str(device).startswith("cuda"):
            raise SFTConfigError("quant nf4 needs a CUDA device (bitsandbytes)")
        from transformers import BitsAndBytesConfig  # bitsandbytes is imported only when asked for

        extra = {"quantization_config": BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16), "device_map": {"": device}}
    # SDPA: attention without materialising the [heads, length, length] probabilities for backward.
    model = AutoModelForCausalLM.from_pretrained(config.model_path, dtype=torch_dtype, attn_implementation="sdpa",
                                                 **extra)
    model.config.use_cache = False
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [m for m in config.target_modules if m not in present]
    if missing:
        linear = sorted({n.rsplit(".", 1)[-1] for n, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)})
        raise SFTConfigError(f"target_modules {missing} are not modules of this model; its linear layers are {linear}")
    if not extra:
        model.to(device)
    if extra:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    elif config.gradient_checkpointing:
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
    return model


def train_sft(
    config: SFTConfig,
    *,
    on_metric: MetricCallback | None = None,
    cancel: Any = None,
    log: Callable[[str], None] | None = None,
) -> SFTResult:
    """Run LoRA SFT as ``config`` says and save the adapter + training_meta.json in ``config.output_dir``.

    ``on_metric(name, value, step)`` receives ``train_loss``, ``lr``, ``tokens_per_s``, ``step_s``, ``peak_rss_mb`` (and
    ``cuda_peak_mb`` on a GPU) every ``log_every`` optimizer steps and ``val_loss`` every ``eval_every`` steps and at the end. ``cancel`` is a
    ``threading.Event``-like object or a zero-argument callable, checked before every optimizer step; a
    cancelled run still saves what it learnt, and its result and meta say ``cancelled``.
    """
    import torch
    from transformers import AutoTokenizer

    from prover.serving.model_loading import pad_token_id

    config.validate()
    device, dtype, dtype_reason = _resolve_device(config)
    workers = join_from_env(device)  # under torchrun: this process's share of the data (training/data_parallel.py)
    emit = (on_metric if workers.main else None) or (lambda name, value, step: None)
    say = (log if workers.main else None) or (lambda message: None)
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
    say(f"dtype {dtype}: {dtype_reason}")
    say(f"{len(train_items)} train / {len(val_items)} validation examples "
        f"({len(loaded.rejected_theorems)} theorems rejected by the sorry filter)")

    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    model = build_lora_model(config, device, torch_dtype)
    probe_set = None
    if config.probe_set:
        from training.probes import load_probe_set

        probe_set = load_probe_set(config.probe_set)

    def run_probes(at_step: int) -> None:
        if probe_set is None:
            return
        from training.probes import compute_probes, model_embedder

        for name, value in compute_probes(model_embedder(model, tokenizer, device=device), probe_set).items():
            emit(name, value, at_step)
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.ndim >= 2]
    no_decay = [p for p in trainable if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    warmup = config.resolved_warmup_steps()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, config.max_steps))

    token_budget = config.max_tokens_per_forward or (512 if dtype == "fp32" else 1024)
    order_rng = random.Random(config.seed)
    lengths = [len(item.input_ids) for item in train_items]
    batches: list[list[int]] = []

    def draw_batch() -> list[int]:
        if not batches:
            batches.extend(length_bucketed_order(lengths, config.batch_size, config.bucket_batches, order_rng))
        return batches.pop()

    def next_batch() -> list[TokenizedExample]:
        return [train_items[i] for i in my_share(workers, draw_batch)]

    history: dict[str, list[tuple[int, float]]] = {"train_loss": [], "val_loss": []}
    step = 0
    status = "completed"
    last_train: float | None = None
    last_val: float | None = None
    window_loss = 0.0
    window_tokens = 0
    window_seen = 0
    window_start, window_first_step = time.perf_counter(), 0
    try:
        while step < config.max_steps:
            if any_across(workers, _is_cancelled(cancel), device):
                raise SFTCancelled
            micro = [next_batch() for _ in range(config.grad_accum)]
            # The normaliser counts every process's labels, so summed gradients are the whole step's mean.
            [label_total] = sum_across(workers, [
                sum(sum(1 for x in it.labels[1:] if x != IGNORE_INDEX) for b in micro for it in b)], device)
            label_total = int(label_total)
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            step_seen = 0
            for batch in micro:
                for chunk in token_budget_chunks(batch, token_budget):
                    ids, mask, labels = (t.to(device) for t in collate(chunk, pad_id))
                    loss_sum, _ = _token_loss_sum(model, ids, mask, labels)
                    (loss_sum / max(label_total, 1)).backward()
                    step_loss += float(loss_sum.detach())
                    step_seen += int(mask.sum())
            sum_gradients(workers, trainable)
            step_loss, step_seen = sum_across(workers, [step_loss, step_seen], device)
            window_seen += int(step_seen)
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
                emit("step_s", elapsed / max(step - window_first_step, 1), step)
                memory = peak_memory_mb(device)
                for name, value in memory.items():
                    emit(name, value, step)
                say(f"step {step}/{config.max_steps} loss {last_train:.4f} lr {lr:.3g} {window_seen / elapsed:.0f} tok/s "
                    f"peak RSS {memory['peak_rss_mb']:.0f} MB")
                window_loss = 0.0
                window_tokens = window_seen = 0
                window_start, window_first_step = time.perf_counter(), step
            if config.eval_every and step % config.eval_every == 0 and step < config.max_steps and val_items:
                last_val = evaluate(model, val_items, batch_size=config.batch_size, pad_id=pad_id, device=device)
                if last_val is not None:
                    history["val_loss"].append((step, last_val))
                    emit("val_loss", last_val, step)
                    say(f"step {step} val_loss {last_val:.4f}")
            if config.probe_every and step % config.probe_every == 0 and step < config.max_steps:
                run_probes(step)
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
    if status == "completed":
        run_probes(step)

    out = Path(config.output_dir)
    if not workers.main:  # the main process saves the one checkpoint; the others only trained with it
        leave(workers)
        return SFTResult(status=status, steps=step, output_dir=str(out), final_train_loss=last_train,
                         final_val_loss=last_val, meta={})
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
        "dtype_reason": dtype_reason,
        "tokens_per_forward": token_budget,
        "data_parallel_processes": workers.size,
        "peak_memory_mb": peak_memory_mb(device),
        "config": {k: v for k, v in asdict(config).items()},
        "versions": _versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    from prover.value.checkpoint import write_checkpoint_folder

    def write(staging: Path) -> None:  # the adapter and its meta replace the previous ones together
        model.save_pretrained(staging)
        write_json(staging / META_FILE, meta)

    write_checkpoint_folder(out, write)
    leave(workers)
    return SFTResult(status=status, steps=step, output_dir=str(out), final_train_loss=last_train,
                     final_val_loss=last_val, meta=meta)


def read_meta(adapter_dir: str | Path) -> dict:
    path = Path(adapter_dir) / META_FILE
    if not path.exists():
        raise FileNotFoundError(f"{adapter_dir} has no {META_FILE}: not an SFT checkpoint")
    return json.loads(path.read_text(encoding="utf-8"))
