"""A compact forward pass for Llama-family causal LMs, over the weights of a loaded transformers model.

Why it exists (figures in docs/serving-engine.md): on a small model such as SmolLM2-135M a decode step is
dominated by per-operation overhead, not by arithmetic. transformers' Llama runs seven projections, a mask
builder and a cache object per layer; this runs two fused projections (q|k|v and gate|up) plus o and down,
one SDPA call, and keeps the KV cache in preallocated buffers that grow by doubling instead of being
concatenated every step. The arithmetic is the same as transformers' (RMSNorm in float32, the model's own
rotary embedding module, SDPA), so log-probs agree with it to float rounding (tests/serving/test_fused_llama.py).

The weights are stored transposed ([in, out], contiguous): MKL's single-row products of one decode step took
about half the time on that layout on the project's (shared, noisy) EPYC; whole-server figures on another
Xeon showed no difference either way (docs/serving-engine.md). The fused q|k|v and gate|up weights are built once; the
transformers modules are then pointed at transposed views of them, so the model's memory is not doubled and
the transformers model stays usable (LoRA merged before).

    fused = FusedLlama.from_model(hf_model)          # None if the model is not a plain Llama
    cache = fused.new_cache()
    logits = fused.forward(input_ids, mask, positions, cache)       # [rows, vocab] at the last position
    hidden = fused.last_hidden_state(input_ids, mask)               # [rows, seq, hidden] for /encode
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

SUPPORTED_MODEL_TYPES = ("llama",)


@dataclass
class _Layer:
    input_norm: torch.Tensor
    qkv: torch.Tensor
    qkv_bias: torch.Tensor | None
    o: torch.Tensor
    o_bias: torch.Tensor | None
    post_norm: torch.Tensor
    gate_up: torch.Tensor
    gate_up_bias: torch.Tensor | None
    down: torch.Tensor
    down_bias: torch.Tensor | None


class KVCache:
    """Per-layer key/value buffers [rows, kv_heads, capacity, head_dim]; the first `length` columns are filled.

    All rows share one column count (rows are left-padded to it; the attention mask hides the padding).
    Appending writes into spare capacity; capacity doubles when it runs out, so a decode step copies nothing.
    """

    def __init__(self, layers: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * layers
        self.values: list[torch.Tensor | None] = [None] * layers
        self.length = 0

    def can_merge(self) -> bool:
        return True

    def append(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write `keys`/`values` [rows, kv_heads, new, head_dim] after the filled columns; return all filled."""
        new = keys.shape[2]
        end = self.length + new
        buffer = self.keys[layer]
        if buffer is None or buffer.shape[2] < end:
            capacity = max(end, 2 * (buffer.shape[2] if buffer is not None else 0), 64)
            shape = (keys.shape[0], keys.shape[1], capacity, keys.shape[3])
            grown_k, grown_v = keys.new_empty(shape), values.new_empty(shape)
            if buffer is not None and self.length:
                grown_k[:, :, : self.length] = buffer[:, :, : self.length]
                grown_v[:, :, : self.length] = self.values[layer][:, :, : self.length]
            self.keys[layer], self.values[layer] = grown_k, grown_v
        self.keys[layer][:, :, self.length : end] = keys
        self.values[layer][:, :, self.length : end] = values
        if layer == len(self.keys) - 1:
            self.length = end
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def filled(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.keys[layer][:, :, : self.length], self.values[layer][:, :, : self.length]

    def select_rows(self, index: torch.Tensor) -> None:
        """Keep rows `index` (in that order; an index may repeat, which copies a row)."""
        for i in range(len(self.keys)):
            self.keys[i] = self.keys[i][index]
            self.values[i] = self.values[i][index]

    def drop_leading(self, columns: int) -> None:
        """Forget the first `columns` columns (no row attends to them any more)."""
        for i in range(len(self.keys)):
            self.keys[i] = self.keys[i][:, :, columns : self.length].clone()
            self.values[i] = self.values[i][:, :, columns : self.length].clone()
        self.length -= columns

    def stack_rows(self, other: KVCache) -> None:
        """Append `other`'s rows below these, left-padding the shorter cache so both have the same columns."""
        width = max(self.length, other.length)
        for i in range(len(self.keys)):
            mine, theirs = self.filled(i), other.filled(i)
            self.keys[i] = torch.cat([_left_pad(mine[0], width), _left_pad(theirs[0], width)])
            self.values[i] = torch.cat([_left_pad(mine[1], width), _left_pad(theirs[1], width)])
        self.length = width


def _left_pad(tensor: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - tensor.shape[2]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[2] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=2)


def _rms_norm(hidden: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    # As transformers' LlamaRMSNorm: the statistics in float32, the scale applied in the model dtype.
    dtype = hidden.dtype
    h = hidden.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def _linear(x: torch.Tensor, weight_t: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x @ weight_t (+ bias), `weight_t` being a linear layer's weight transposed to [in, out]."""
    out = torch.matmul(x, weight_t)
    return out + bias if bias is not None else out


def _transposed(module) -> torch.Tensor:
    """The module's weight as a contiguous [in, out] tensor; the module is pointed at a view of it."""
    weight_t = module.weight.detach().t().contiguous()
    module.weight.data = weight_t.t()
    return weight_t


def _fused_transposed(modules) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The modules' weights side by side as one [in, sum of outs] tensor (and their biases as one vector);
    each module is pointed at its slice, so the weights exist once."""
    fused = torch.cat([m.weight.detach().t() for m in modules], dim=1).contiguous()
    bias = torch.cat([m.bias.detach() for m in modules]) if modules[0].bias is not None else None
    start = 0
    for module in modules:
        width = module.weight.shape[0]
        module.weight.data = fused[:, start : start + width].t()
        if bias is not None:
            module.bias.data = bias[start : start + width]
        start += width
    return fused, bias


class FusedLlama:
    def __init__(self, model) -> None:
        config = model.config
        inner = model.model
        self.config = config
        self.heads = int(config.num_attention_heads)
        self.kv_heads = int(config.num_key_value_heads)
        self.head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // self.heads)
        self.eps = float(config.rms_norm_eps)
        self.intermediate = int(config.intermediate_size)
        self.final_norm = inner.norm.weight
        tied = model.lm_head.weight.data_ptr() == inner.embed_tokens.weight.data_ptr()
        self.lm_head_t = _transposed(model.lm_head)
        if tied:  # one copy: the embedding reads rows of the transposed head's view
            inner.embed_tokens.weight.data = model.lm_head.weight.data
        self.embed = inner.embed_tokens.weight.detach()
        self.rotary = inner.rotary_emb
        self.layers = [self._fuse(layer) for layer in inner.layers]

    @classmethod
    def supports(cls, model) -> bool:
        config = getattr(model, "config", None)
        return (
            getattr(config, "model_type", None) in SUPPORTED_MODEL_TYPES
            and getattr(config, "hidden_act", "silu") == "silu"
            and not getattr(config, "pretraining_tp", 1) > 1
            and getattr(model, "hf_quantizer", None) is None
            and not hasattr(model, "peft_config")
        )

    @classmethod
    def from_model(cls, model) -> FusedLlama | None:
        return cls(model) if cls.supports(model) else None

    @staticmethod
    def _fuse(layer) -> _Layer:
        attention, mlp = layer.self_attn, layer.mlp
        qkv, qkv_bias = _fused_transposed((attention.q_proj, attention.k_proj, attention.v_proj))
        gate_up, gate_up_bias = _fused_transposed((mlp.gate_proj, mlp.up_proj))
        bias = lambda module: module.bias.detach() if module.bias is not None else None  # noqa: E731
        return _Layer(
            input_norm=layer.input_layernorm.weight.detach(),
            qkv=qkv,
            qkv_bias=qkv_bias,
            o=_transposed(attention.o_proj),
            o_bias=bias(attention.o_proj),
            post_norm=layer.post_attention_layernorm.weight.detach(),
            gate_up=gate_up,
            gate_up_bias=gate_up_bias,
            down=_transposed(mlp.down_proj),
            down_bias=bias(mlp.down_proj),
        )

    def new_cache(self) -> KVCache:
        return KVCache(len(self.layers))

    @torch.inference_mode()
    def forward(self, input_ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Run `input_ids` [rows, new] after what `cache` holds; return float32 logits at the last position.

        `mask` [rows, cached + new] is 1 on real tokens (left padding is 0); `positions` [rows, new].
        """
        hidden = self._layers(input_ids, mask, positions, cache)
        last = _rms_norm(hidden[:, -1, :], self.final_norm, self.eps)
        return torch.matmul(last, self.lm_head_t).float()

    @torch.inference_mode()
    def last_hidden_state(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The final-norm hidden states [rows, seq, hidden] of right-padded `input_ids` (what /encode pools)."""
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return _rms_norm(self._layers(input_ids, mask, positions, None), self.final_norm, self.eps)

    def _attention_mask(self, mask: torch.Tensor, new: int) -> torch.Tensor:
        """Boolean [rows, 1, new, total]: causal over the last `new` columns, padding hidden.

        A padding query is allowed to see itself, so that no softmax row is empty (an empty row gives NaN,
        and NaN in a padding slot's keys would reach real rows through the masked-out products).
        """
        total = mask.shape[1]
        keys = mask.bool()[:, None, None, :]
        query_at = torch.arange(total - new, total, device=mask.device)[:, None]
        causal = torch.arange(total, device=mask.device)[None, :] <= query_at
        allowed = keys & causal[None, None]
        if new > 1:
            allowed = allowed | (torch.arange(total, device=mask.device)[None, :] == query_at)[None, None]
        return allowed

    def _layers(self, input_ids, mask, positions, cache: KVCache | None) -> torch.Tensor:
        rows, new = input_ids.shape
        hidden = F.embedding(input_ids, self.embed)
        cos, sin = self.rotary(hidden, positions)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        attend = self._attention_mask(mask, new)
        groups = self.heads // self.kv_heads
        if groups > 1 and new > 1:
            attend = attend.repeat(1, 1, groups, 1)
        q_width, kv_width = self.heads * self.head_dim, self.kv_heads * self.head_dim
        for index, layer in enumerate(self.layers):
            x = _rms_norm(hidden, layer.input_norm, self.eps)
            qkv = _linear(x, layer.qkv, layer.qkv_bias)
            q = qkv[..., :q_width].view(rows, new, self.heads, self.head_dim).transpose(1, 2)
            k = qkv[..., q_width : q_width + kv_width].view(rows, new, self.kv_heads, self.head_dim).transpose(1, 2)
            v = qkv[..., q_width + kv_width :].view(rows, new, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
            if cache is not None:
                k, v = cache.append(index, k, v)
            # Grouped-query attention without copying K/V per query head: the query heads that share a K/V
            # head become extra query positions of it (query head h uses K/V head h // groups, as in
            # transformers' repeat_kv), and the mask is repeated to match.
            grouped = q.reshape(rows, self.kv_heads, groups * new, self.head_dim)
            attended = F.scaled_dot_product_attention(grouped, k, v, attn_mask=attend)
            attended = attended.reshape(rows, self.heads, new, self.head_dim).transpose(1, 2).reshape(rows, new, q_width)
            hidden = hidden + _linear(attended, layer.o, layer.o_bias)
            x = _rms_norm(hidden, layer.post_norm, self.eps)
            gate, up = _linear(x, layer.gate_up, layer.gate_up_bias).split(self.intermediate, dim=-1)
            hidden = hidden + _linear(F.silu(gate) * up, layer.down, layer.down_bias)
        return hidden
