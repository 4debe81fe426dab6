"""Batched autoregressive generation with per-row sampling parameters, stop strings and SGLang-style log-probs.

One call decodes a batch of rows (prompt token ids + sampling parameters each) with a shared KV cache:
prompts are left-padded so every row's next token sits in the last column, position ids skip the padding,
and rows that finish are dropped from the cache so the rest decode at a smaller batch.

Log-probs (what SGLang's `meta_info.output_token_logprobs[i][0]` holds, checked against SGLang's
`layers/sampler.py` and PRs #2664, #5961, #8375):
- mode "scaled" (SGLang's default): log-softmax of logits / temperature over the whole vocabulary, i.e. the
  distribution sampled from before top-p/top-k truncation (no renormalisation over the nucleus since #5961).
  A greedy row (temperature 0) is reported at temperature 1, as SGLang does.
- mode "original" (SGLang with SGLANG_RETURN_ORIGINAL_LOGPROB=1): log-softmax of the raw logits
  (temperature 1) whatever the sampling temperature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from prover.serving.model_loading import LoadedModel, pad_token_id

LOGPROB_MODES = ("scaled", "original")


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int = 128
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    ignore_eos: bool = False
    n: int = 1

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0 or self.top_k == 1


@dataclass
class Row:
    prompt_ids: list[int]
    params: SamplingParams


@dataclass
class Completion:
    text: str
    output_ids: list[int]
    logprobs: list[float]
    finish_reason: dict
    prompt_tokens: int
    # Set when a stop string ended the row: the full decoded text before truncation (for debugging only).
    untruncated_text: str | None = field(default=None, repr=False)


def eos_token_ids(loaded: LoadedModel) -> set[int]:
    """EOS ids from the tokenizer and the generation config (some models list several)."""
    ids: set[int] = set()
    if loaded.tokenizer.eos_token_id is not None:
        ids.add(int(loaded.tokenizer.eos_token_id))
    generation_config = getattr(loaded.causal_lm(), "generation_config", None)
    configured = getattr(generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(int(i) for i in configured)
    return ids


# Top-p/top-k filtering first looks at this many most likely tokens: a trained model's nucleus almost always
# fits, and a top-k of 512 costs a few ms where sorting a 50k-100k vocabulary costs tens of ms per batch.
_CANDIDATES = 512


def _filtered_sample(
    probs: torch.Tensor, top_ps: torch.Tensor, top_ks: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Sample from each row of `probs` restricted to its top-k tokens and its top-p nucleus.

    A token is kept when the mass of the more likely tokens before it is within top_p (so the most likely
    token always stays) and its rank is below top_k, as in SGLang's sampler.
    """
    vocab = probs.shape[-1]
    chosen = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
    k = min(vocab, _CANDIDATES)
    values, ids = probs.topk(k, dim=-1)
    mass_before = values.cumsum(dim=-1) - values
    # The filtered set lies among the k candidates when the k-th one is already cut by top-p or top-k.
    fits = (top_ks <= k) | (mass_before[:, -1] > top_ps)
    if not bool(fits.all()):
        rest = (~fits).nonzero().squeeze(1)
        values_all, ids_all = probs[rest].sort(dim=-1, descending=True)
        rows = (values_all, ids_all, values_all.cumsum(dim=-1) - values_all)
        chosen[rest] = _sample_sorted(*rows, top_ps[rest], top_ks[rest], generator)
    if bool(fits.any()):
        keep = fits.nonzero().squeeze(1)
        chosen[keep] = _sample_sorted(values[keep], ids[keep], mass_before[keep], top_ps[keep], top_ks[keep], generator)
    return chosen


def _sample_sorted(values, ids, mass_before, top_ps, top_ks, generator) -> torch.Tensor:
    values = values.clone()
    values[mass_before > top_ps.unsqueeze(1)] = 0.0
    ranks = torch.arange(values.shape[-1], device=values.device).unsqueeze(0)
    values[ranks >= top_ks.unsqueeze(1)] = 0.0
    picked = torch.multinomial(values, num_samples=1, generator=generator)
    return ids.gather(1, picked).squeeze(1)


def choose_next_tokens(
    logits: torch.Tensor,
    params: list[SamplingParams],
    logprob_mode: str,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick one token per row from float32 logits [rows, vocab]; return (token ids, their log-probs)."""
    temperatures = torch.tensor(
        [p.temperature if not p.greedy else 1.0 for p in params], dtype=logits.dtype, device=logits.device
    ).unsqueeze(1)
    scaled = logits / temperatures
    reported = torch.log_softmax(logits if logprob_mode == "original" else scaled, dim=-1)

    chosen = torch.argmax(logits, dim=-1)
    vocab = logits.shape[-1]
    sampled = [i for i, p in enumerate(params) if not p.greedy]
    unfiltered = {i for i in sampled if params[i].top_p >= 1.0 and (params[i].top_k == -1 or params[i].top_k >= vocab)}
    plain = sorted(unfiltered)
    filtered = [i for i in sampled if i not in unfiltered]
    if plain:
        index = torch.tensor(plain, device=logits.device)
        probs = torch.softmax(scaled[index], dim=-1)
        chosen[index] = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)
    if filtered:
        index = torch.tensor(filtered, device=logits.device)
        top_ps = torch.tensor([params[i].top_p for i in filtered], dtype=logits.dtype, device=logits.device)
        top_ks = torch.tensor([params[i].top_k if params[i].top_k > 0 else vocab for i in filtered], device=logits.device)
        chosen[index] = _filtered_sample(torch.softmax(scaled[index], dim=-1), top_ps, top_ks, generator)
    logprobs = reported.gather(1, chosen.unsqueeze(1)).squeeze(1)
    return chosen, logprobs


def special_stop_ids(tokenizer, stops: tuple[str, ...]) -> dict[int, str]:
    """Stop strings that are special tokens (e.g. `<|im_end|>`): decoding skips special tokens, so they could
    never match as text; they are matched by token id instead."""
    special = set(tokenizer.all_special_tokens) | {
        t.content for t in getattr(tokenizer, "added_tokens_decoder", {}).values() if getattr(t, "special", False)
    }
    return {int(tokenizer.convert_tokens_to_ids(s)): s for s in stops if s in special}


def _first_stop_string(text: str, stops: tuple[str, ...]) -> tuple[int, str] | None:
    hits = [(text.find(s), s) for s in stops if s and s in text]
    return min(hits) if hits else None


def generate_rows(
    loaded: LoadedModel,
    rows: list[Row],
    *,
    logprob_mode: str = "scaled",
    model_lock: threading.Lock | None = None,
    generator: torch.Generator | None = None,
    forward_hook: Callable[[int], None] | None = None,
) -> list[Completion]:
    """Decode all rows together and return one Completion per row, in order.

    `model_lock` is held for each forward step only, so other users of the model (the encoder) interleave
    with a long generation instead of waiting for all of it. `forward_hook(batch_rows)` runs before each
    forward (counters, fault injection).
    """
    if logprob_mode not in LOGPROB_MODES:
        raise ValueError(f"logprob_mode must be one of {LOGPROB_MODES}, not {logprob_mode!r}")
    lock = model_lock or threading.Lock()
    model = loaded.model
    device = loaded.device
    tokenizer = loaded.tokenizer
    pad_id = pad_token_id(tokenizer)
    eos_ids = eos_token_ids(loaded)

    width = max(len(r.prompt_ids) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, width - len(row.prompt_ids) :] = torch.tensor(row.prompt_ids, dtype=torch.long)
        attention_mask[i, width - len(row.prompt_ids) :] = 1
    input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)

    from transformers import DynamicCache

    cache = DynamicCache(config=loaded.causal_lm().config)
    outputs: list[list[int]] = [[] for _ in rows]
    logprobs: list[list[float]] = [[] for _ in rows]
    finish: list[dict | None] = [None] * len(rows)
    stop_cut: list[int | None] = [None] * len(rows)
    alive = list(range(len(rows)))  # row indices still decoding, in cache order
    special_stops = [special_stop_ids(tokenizer, row.params.stop) if row.params.stop else {} for row in rows]

    step_ids, step_positions = input_ids, position_ids
    while alive:
        if forward_hook is not None:
            forward_hook(len(alive))
        with lock, torch.inference_mode():
            logits = model(
                input_ids=step_ids,
                attention_mask=attention_mask,
                position_ids=step_positions,
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            ).logits[:, -1, :].float()
        params = [rows[i].params for i in alive]
        chosen, chosen_logprobs = choose_next_tokens(logits, params, logprob_mode, generator)
        chosen_list, logprob_list = chosen.tolist(), chosen_logprobs.tolist()

        still_alive: list[int] = []
        keep: list[int] = []
        for slot, row_index in enumerate(alive):
            token, params_row = chosen_list[slot], rows[row_index].params
            outputs[row_index].append(token)
            logprobs[row_index].append(logprob_list[slot])
            if token in special_stops[row_index]:
                finish[row_index] = {"type": "stop", "matched": special_stops[row_index][token]}
            elif (token in eos_ids and not params_row.ignore_eos) or token in params_row.stop_token_ids:
                finish[row_index] = {"type": "stop", "matched": token}
            elif params_row.stop:
                text = tokenizer.decode(outputs[row_index], skip_special_tokens=True)
                hit = _first_stop_string(text, params_row.stop)
                if hit is not None:
                    stop_cut[row_index] = hit[0]
                    finish[row_index] = {"type": "stop", "matched": hit[1]}
            if finish[row_index] is None and len(outputs[row_index]) >= params_row.max_new_tokens:
                finish[row_index] = {"type": "length", "length": params_row.max_new_tokens}
            if finish[row_index] is None:
                still_alive.append(row_index)
                keep.append(slot)
        if not still_alive:
            break
        if len(keep) < len(alive):
            keep_index = torch.tensor(keep, device=device)
            cache.batch_select_indices(keep_index)
            attention_mask = attention_mask[keep_index]
            step_positions = step_positions[keep_index]
            chosen = chosen[keep_index]
        alive = still_alive
        attention_mask = torch.cat(
            [attention_mask, torch.ones((len(alive), 1), dtype=attention_mask.dtype, device=device)], dim=1
        )
        step_positions = step_positions[:, -1:] + 1
        step_ids = chosen.unsqueeze(1)

    completions = []
    for i, row in enumerate(rows):
        text = tokenizer.decode(outputs[i], skip_special_tokens=True)
        untruncated = None
        if stop_cut[i] is not None:
            untruncated, text = text, text[: stop_cut[i]]
        completions.append(
            Completion(
                text=text,
                output_ids=outputs[i],
                logprobs=logprobs[i],
                finish_reason=finish[i] or {"type": "length", "length": row.params.max_new_tokens},
                prompt_tokens=len(row.prompt_ids),
                untruncated_text=untruncated,
            )
        )
    return completions
