"""A running decode batch that rows can join between steps (continuous batching) and leave when they finish.

Rows joining together are prefilled as one left-padded batch; rows with the same prompt (the k samples
search asks of one state) are prefilled once and their KV cache copied, since the prompt is most of the
work of a short completion. Their cache is then merged into the running one by left-padding the shorter of
the two along the sequence axis (padded slots are masked out, and every row keeps its own position ids, so a
row decodes as it would alone). Finished rows are dropped from the cache at once, and mask columns no row
attends to any more are trimmed. The forwards go through the loaded model's runner (`FusedLlama` or
`TransformersRunner`), which owns the cache layout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import torch

from prover.serving.generation import (
    Completion,
    Row,
    choose_next_tokens,
    eos_token_ids,
    first_stop_string,
    special_stop_ids,
)
from prover.serving.model_loading import LoadedModel, pad_token_id


@dataclass
class _RowState:
    key: Hashable
    row: Row
    special_stops: dict[int, str]
    outputs: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish: dict | None = None
    stop_cut: int | None = None


def _left_pad(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


class DecodeBatch:
    """Rows decoding together. Not thread-safe: one thread drives it (the model lock guards forwards)."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        logprob_mode: str = "scaled",
        model_lock: threading.Lock | None = None,
        generator: torch.Generator | None = None,
        forward_hook: Callable[[int], None] | None = None,
    ) -> None:
        self.loaded = loaded
        self.logprob_mode = logprob_mode
        self.lock = model_lock or threading.Lock()
        self.generator = generator
        self.forward_hook = forward_hook
        self.eos_ids = eos_token_ids(loaded)
        self.runner = loaded.runner
        if self.runner is None:
            from prover.serving.transformers_runner import TransformersRunner

            self.runner = TransformersRunner(loaded.model)
        self.pad_id = pad_token_id(loaded.tokenizer)
        self._states: list[_RowState] = []  # in cache order
        self._cache = None
        self._mask: torch.Tensor | None = None  # [rows, cached + 1]: includes the column of the pending token
        self._positions: torch.Tensor | None = None  # [rows, 1]: position of the pending token
        self._pending: torch.Tensor | None = None  # [rows]: sampled, not yet fed to the model

    def __len__(self) -> int:
        return len(self._states)

    def keys(self) -> list[Hashable]:
        """Keys of the rows still decoding."""
        return [state.key for state in self._states]

    def abort(self, should_abort: Callable[[Hashable], bool]) -> int:
        """Drop the rows whose key `should_abort` picks (their client went away); return how many."""
        doomed = [state for state in self._states if state.finish is None and should_abort(state.key)]
        for state in doomed:
            state.finish = {"type": "abort"}
        if doomed:
            self._drop_finished()
        return len(doomed)

    def can_join_running(self) -> bool:
        """Whether rows may join while others decode (plain per-layer KV tensors can be merged)."""
        return self._cache is None or self._cache.can_merge()

    def admit(self, rows: list[tuple[Hashable, Row]]) -> list[tuple[Hashable, Completion]]:
        """Prefill `rows` (key, row), sample their first tokens and add the unfinished ones to the batch."""
        device = self.loaded.device
        unique: dict[tuple[int, ...], int] = {}
        source = [unique.setdefault(tuple(row.prompt_ids), len(unique)) for _, row in rows]
        prompts = list(unique)
        width = max(len(ids) for ids in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, ids in enumerate(prompts):
            input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[i, width - len(ids) :] = 1
        input_ids, mask = input_ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = self.runner.new_cache()
        logits = self._forward(input_ids, mask, positions, cache)
        if len(prompts) < len(rows):  # rows that share a prompt get copies of its cache and logits
            index = torch.tensor(source, device=device)
            cache.select_rows(index)
            logits, mask, positions = logits[index], mask[index], positions[index]
        states = [
            _RowState(key, row, special_stop_ids(self.loaded.tokenizer, row.params.stop) if row.params.stop else {})
            for key, row in rows
        ]
        chosen = self._sample_and_record(states, logits)
        new_mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=device)], dim=1)
        self._merge(states, cache, new_mask, positions[:, -1:] + 1, chosen)
        return self._drop_finished()

    def step(self) -> list[tuple[Hashable, Completion]]:
        """Feed every row its pending token, sample the next; return the rows that finished."""
        if not self._states:
            return []
        assert self._pending is not None and self._mask is not None and self._positions is not None
        logits = self._forward(self._pending.unsqueeze(1), self._mask, self._positions, self._cache)
        self._pending = self._sample_and_record(self._states, logits)
        self._positions = self._positions + 1
        self._mask = torch.cat([self._mask, torch.ones_like(self._mask[:, :1])], dim=1)
        return self._drop_finished()

    # --- internals ------------------------------------------------------------------------------------------

    def _forward(self, input_ids, mask, positions, cache) -> torch.Tensor:
        if self.forward_hook is not None:
            self.forward_hook(input_ids.shape[0])
        with self.lock, torch.inference_mode():
            return self.runner.forward(input_ids, mask, positions, cache)

    def _sample_and_record(self, states: list[_RowState], logits: torch.Tensor) -> torch.Tensor:
        params = [s.row.params for s in states]
        chosen, logprobs = choose_next_tokens(logits, params, self.logprob_mode, self.generator)
        tokenizer = self.loaded.tokenizer
        for state, token, logprob in zip(states, chosen.tolist(), logprobs.tolist(), strict=True):
            p = state.row.params
            state.outputs.append(token)
            state.logprobs.append(logprob)
            if token in state.special_stops:
                state.finish = {"type": "stop", "matched": state.special_stops[token]}
            elif (token in self.eos_ids and not p.ignore_eos) or token in p.stop_token_ids:
                state.finish = {"type": "stop", "matched": token}
            elif p.stop:
                hit = first_stop_string(tokenizer.decode(state.outputs, skip_special_tokens=True), p.stop)
                if hit is not None:
                    state.stop_cut = hit[0]
                    state.finish = {"type": "stop", "matched": hit[1]}
            if state.finish is None and len(state.outputs) >= p.max_new_tokens:
                state.finish = {"type": "length", "length": p.max_new_tokens}
        return chosen

    def _merge(self, states, cache, mask, positions, pending) -> None:
        if not self._states:
            self._states, self._cache, self._mask, self._positions, self._pending = (
                states, cache, mask, positions, pending,
            )  # fmt: skip
            return
        width = max(self._mask.shape[1], mask.shape[1])
        self._cache.stack_rows(cache)  # both caches end up width - 1 columns wide (the pending token is not in them)
        self._mask = torch.cat([_left_pad(self._mask, width, 1), _left_pad(mask, width, 1)])
        self._positions = torch.cat([self._positions, positions])
        self._pending = torch.cat([self._pending, pending])
        self._states = self._states + states

    def _drop_finished(self) -> list[tuple[Hashable, Completion]]:
        finished = [(i, s) for i, s in enumerate(self._states) if s.finish is not None]
        if not finished:
            return []
        keep = [i for i, s in enumerate(self._states) if s.finish is None]
        if not keep:
            self._states, self._cache, self._mask, self._positions, self._pending = [], None, None, None, None
        else:
            index = torch.tensor(keep, device=self.loaded.device)
            self._cache.select_rows(index)
            self._mask, self._positions, self._pending = self._mask[index], self._positions[index], self._pending[index]
            self._states = [self._states[i] for i in keep]
            # Columns no remaining row attends to (a long row left) are dropped from the mask and the cache.
            unused = int((self._mask.sum(dim=0) == 0).long().cumprod(dim=0).sum())
            if unused:
                self._mask = self._mask[:, unused:]
                self._cache.drop_leading(unused)
        return [(s.key, self._completion(s)) for _, s in finished]

    def _completion(self, state: _RowState) -> Completion:
        text = self.loaded.tokenizer.decode(state.outputs, skip_special_tokens=True)
        untruncated = None
        if state.stop_cut is not None:
            untruncated, text = text, text[: state.stop_cut]
        return Completion(
            text=text,
            output_ids=state.outputs,
            logprobs=state.logprobs,
            finish_reason=state.finish or {"type": "length", "length": state.row.params.max_new_tokens},
            prompt_tokens=len(state.row.prompt_ids),
            untruncated_text=untruncated,
        )
