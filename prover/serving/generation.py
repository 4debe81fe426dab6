"""Sampling for batched generation: per-row parameters, stop conditions and SGLang-style log-probs.

The decoding itself (KV cache, left padding, rows joining and leaving) is `decode_batch.DecodeBatch`;
`generate_rows` here decodes one fixed set of rows with it.

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

from prover.serving.model_loading import LoadedModel

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


# Top-p/top-k filtering first looks at the most likely tokens only, widening the look when a row's nucleus
# does not fit: a trained model's nucleus almost always fits in 512, a top-k of 512 costs a few ms, and sorting a
# 50k-100k vocabulary costs tens of ms per batch (a flat distribution at T=0.8 needed the wider look in about half
# the steps of the embedded model's decode).
_CANDIDATES = (512, 4096)


def _filtered_sample(
    probs: torch.Tensor, top_ps: torch.Tensor, top_ks: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Sample from each row of `probs` restricted to its top-k tokens and its top-p nucleus.

    A token is kept when the mass of the more likely tokens before it is within top_p (so the most likely
    token always stays) and its rank is below top_k, as in SGLang's sampler.
    """
    vocab = probs.shape[-1]
    chosen = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
    rest = torch.arange(probs.shape[0], device=probs.device)
    for k in (*(min(vocab, c) for c in _CANDIDATES if c < vocab), vocab):
        whole = k == vocab
        values, ids = probs[rest].sort(dim=-1, descending=True) if whole else probs[rest].topk(k, dim=-1)
        mass_before = values.cumsum(dim=-1) - values
        # The filtered set lies among the k candidates when the k-th one is already cut by top-p or top-k.
        fits = torch.ones_like(rest, dtype=torch.bool) if whole else (
            (top_ks[rest] <= k) | (mass_before[:, -1] > top_ps[rest]))
        if bool(fits.any()):
            keep = fits.nonzero().squeeze(1)
            rows = rest[keep]
            chosen[rows] = _sample_sorted(values[keep], ids[keep], mass_before[keep], top_ps[rows], top_ks[rows], generator)
        rest = rest[~fits]
        if rest.numel() == 0:
            break
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

    vocab = logits.shape[-1]
    sampled = [i for i, p in enumerate(params) if not p.greedy]
    if len(sampled) < len(params):
        chosen = torch.argmax(logits, dim=-1)
    else:  # every row samples: the argmax over the whole vocabulary would be thrown away
        chosen = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
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


def first_stop_string(text: str, stops: tuple[str, ...]) -> tuple[int, str] | None:
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
    """Decode all rows together (one prefill, then one forward per step) and return their completions in order.

    `model_lock` is held for each forward only, so other users of the model (the encoder) interleave with a
    long generation. `forward_hook(batch_rows)` runs before each forward (counters, fault injection).
    """
    from prover.serving.decode_batch import DecodeBatch

    if logprob_mode not in LOGPROB_MODES:
        raise ValueError(f"logprob_mode must be one of {LOGPROB_MODES}, not {logprob_mode!r}")
    batch = DecodeBatch(
        loaded, logprob_mode=logprob_mode, model_lock=model_lock, generator=generator, forward_hook=forward_hook
    )
    done = dict(batch.admit(list(enumerate(rows))))
    while len(batch):
        done.update(batch.step())
    return [done[i] for i in range(len(rows))]
