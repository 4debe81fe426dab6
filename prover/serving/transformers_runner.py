"""The general engine: any transformers causal LM (nf4 through bitsandbytes, unmerged peft adapters, models
that `fused_llama` does not cover), behind the same small interface as `FusedLlama`:

    runner.new_cache() -> cache with select_rows / drop_leading / stack_rows / length
    runner.forward(input_ids, mask, positions, cache) -> float32 logits [rows, vocab] at the last position
    runner.last_hidden_state(input_ids, mask) -> [rows, seq, hidden]
"""

from __future__ import annotations

import inspect

import torch


def _cache_argument_name(model) -> str:
    """transformers 5.24 renamed forward's `past_key_values` to `cache` (the old name goes in 5.40)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _left_pad(tensor: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - tensor.shape[2]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[2] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=2)


class TransformersCache:
    """A transformers DynamicCache with the row and column operations continuous batching needs."""

    def __init__(self, config) -> None:
        from transformers import DynamicCache

        self.inner = DynamicCache(config=config)

    @property
    def length(self) -> int:
        layers = self.inner.layers
        return 0 if not layers or getattr(layers[0], "keys", None) is None else int(layers[0].keys.shape[2])

    def can_merge(self) -> bool:
        """Plain per-layer KV tensors can be stacked and trimmed (sliding-window or quantized caches cannot)."""
        from transformers.cache_utils import DynamicLayer

        return all(type(layer) is DynamicLayer for layer in self.inner.layers)

    def select_rows(self, index: torch.Tensor) -> None:
        for layer in self.inner.layers:
            layer.keys, layer.values = layer.keys[index], layer.values[index]

    def drop_leading(self, columns: int) -> None:
        for layer in self.inner.layers:
            layer.keys, layer.values = layer.keys[:, :, columns:], layer.values[:, :, columns:]

    def stack_rows(self, other: TransformersCache) -> None:
        width = max(self.length, other.length)
        for mine, theirs in zip(self.inner.layers, other.inner.layers, strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, width), _left_pad(theirs.keys, width)])
            mine.values = torch.cat([_left_pad(mine.values, width), _left_pad(theirs.values, width)])


class TransformersRunner:
    def __init__(self, model) -> None:
        self.model = model
        self.causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
        self._cache_argument = _cache_argument_name(self.causal_lm)

    def new_cache(self) -> TransformersCache:
        return TransformersCache(self.causal_lm.config)

    def forward(self, input_ids, mask, positions, cache: TransformersCache) -> torch.Tensor:
        with torch.inference_mode():
            output = self.model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=positions,
                use_cache=True,
                logits_to_keep=1,
                **{self._cache_argument: cache.inner},
            )
        return output.logits[:, -1, :].float()

    def last_hidden_state(self, input_ids, mask) -> torch.Tensor:
        with torch.inference_mode():
            return self.causal_lm.base_model(input_ids=input_ids, attention_mask=mask).last_hidden_state
