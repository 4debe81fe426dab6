"""A linear layer whose weight is divided by its largest singular value ("Option C" spectral norm).

Option C, a settled decision of BurnQED's design (docs/value-model.md#spectral-norm): every training forward
restarts power iteration from a fresh random vector and runs a fixed small number of iterations (5), instead
of warm-starting from the previous step's vector the way `torch.nn.utils.parametrizations.spectral_norm` does.
A warm start lets a stale estimate survive a sudden change of the weights; a fresh start cannot, at the price
of a slightly low sigma (about 7 % low for a random 2048x12288 matrix after 5 iterations, so the layer's norm
is about 1.07, not 1).

Evaluation must be deterministic (the same state must get the same energy twice), so outside training the
layer divides by sigma = u^T W v with the u, v of the last training forward, kept as buffers and saved in
checkpoints; a new layer starts with vectors from many iterations, so it is exact before any training.

`output_scale` multiplies the weight *after* normalisation. That is where a damping must go: W / sigma(W) is
scale-invariant, so multiplying the stored weight (the naive `weight.data *= 0.1`) changes nothing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Guards the divisions in power iteration, as in BurnQED's implementation.
_EPS = 1e-12
# Enough for sigma to be accurate to well under 1 % at the 7B head's sizes (12288 -> 2048 -> ...), so an
# untrained head in eval mode is properly normalised.
_INIT_POWER_ITERATIONS = 50


def _power_iteration(weight: torch.Tensor, u: torch.Tensor, iterations: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimates of the top left/right singular vectors of `weight`, starting from `u` (float32, no grad)."""
    v = torch.zeros(weight.shape[1], dtype=weight.dtype, device=weight.device)
    for _ in range(iterations):
        v = torch.mv(weight.t(), u)
        v = v / (v.norm() + _EPS)
        u = torch.mv(weight, v)
        u = u / (u.norm() + _EPS)
    return u, v


class SpectralNormLinear(nn.Module):
    """`y = output_scale * (W / sigma(W)) x + b`, sigma estimated by Option C power iteration."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        power_iterations: int = 5,
        output_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"SpectralNormLinear needs positive sizes, got in={in_features}, out={out_features}")
        if power_iterations < 1:
            raise ValueError(f"power_iterations must be >= 1, got {power_iterations}")
        if not (output_scale > 0 and math.isfinite(output_scale)):
            raise ValueError(f"output_scale must be a positive finite number, got {output_scale}")
        self.in_features = in_features
        self.out_features = out_features
        self.power_iterations = power_iterations
        self.output_scale = float(output_scale)
        # Kaiming normal (std sqrt(2/fan_in)) as BurnQED's heads use; the scale is irrelevant after
        # normalisation but keeps optimiser step sizes comparable to an unnormalised layer.
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * math.sqrt(2.0 / in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        with torch.no_grad():
            start = F.normalize(torch.randn(out_features), dim=0)
            u, v = _power_iteration(self.weight.float(), start, _INIT_POWER_ITERATIONS)
        self.register_buffer("u", u)
        self.register_buffer("v", v)
        self._inference_cache: tuple[tuple, torch.Tensor] | None = None

    def sigma(self) -> torch.Tensor:
        """The stored estimate of the weight's largest singular value, u^T W v (float32, differentiable)."""
        # float(): a module moved to bf16 has bf16 buffers too, and sigma is computed in float32.
        # clone(): the graph must not hold the buffers themselves; the next training forward overwrites them in
        # place, so two forwards before one backward (InfoNCE over positives and negatives) would then fail.
        return torch.dot(self.u.float().clone(), torch.mv(self.weight.float(), self.v.float().clone()))

    def _fresh_sigma(self) -> torch.Tensor:
        with torch.no_grad():
            weight = self.weight.detach().float()
            start = F.normalize(torch.randn(self.out_features, device=weight.device), dim=0)
            u, v = _power_iteration(weight, start, self.power_iterations)
            self.u.copy_(u)
            self.v.copy_(v)
        # As in torch's spectral norm, u and v are constants to autograd; the gradient flows through W.
        return torch.dot(u, torch.mv(self.weight.float(), v))

    def effective_weight(self) -> torch.Tensor:
        """The weight actually applied: output_scale * W / sigma. In training mode this re-estimates sigma."""
        sigma = self._fresh_sigma() if self.training else self.sigma()
        return self.weight * (self.output_scale / sigma).to(self.weight.dtype)

    def inference_cache_key(self) -> tuple:
        """Changes whenever the effective weight may have: an optimiser step, load_state_dict, .to() all bump it."""
        return (
            self.weight.data_ptr(),
            self.weight._version,
            self.weight.dtype,
            self.weight.device,
            self.u.data_ptr(),
            self.u._version,
            self.v._version,
        )

    def inference_weight(self) -> torch.Tensor:
        """The effective weight for evaluation without autograd, computed once per weight version."""
        # Normalising 25M weights costs as much as a batch-1 forward, so inference reuses the result.
        key = self.inference_cache_key()
        if self._inference_cache is None or self._inference_cache[0] != key:
            self._inference_cache = (key, self.effective_weight().detach())
        return self._inference_cache[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and not torch.is_grad_enabled():
            weight = self.inference_weight()
        else:
            weight = self.effective_weight()
        return F.linear(x, weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
            f"power_iterations={self.power_iterations}, output_scale={self.output_scale}"
        )
