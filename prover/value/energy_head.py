"""GoalConditionedEnergyHead: a scalar energy for a proof state given its theorem's goal (lower = more provable).

Input `[z_state; z_goal; z_state * z_goal]` (3 * D), hidden widths 2048 -> 1024 -> 512 -> 1 for a 4096-wide
backbone, spectral norm on every layer, SiLU and dropout after each hidden layer, and a learnable
temperature: `forward` returns raw_energy / tau with tau clamped to [0.1, 10]. InfoNCE therefore takes
no temperature of its own (docs/value-model.md#infonce).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from prover.value.embedding_text import EMBEDDING_TEXT_FORMATS
from prover.value.spectral_norm_linear import SpectralNormLinear

SEED_EMBEDDING_DIM = 4096
SEED_HIDDEN_DIMS = (2048, 1024, 512)


@dataclass(frozen=True)
class EnergyHeadConfig:
    """Everything needed to rebuild a head and to check it is used with the embeddings it was trained on."""

    embedding_dim: int = SEED_EMBEDDING_DIM
    hidden_dims: tuple[int, ...] = SEED_HIDDEN_DIMS
    dropout: float = 0.15
    power_iterations: int = 5
    # BurnQED's "first layer * 0.1", applied after spectral normalisation so that it survives it
    # (docs/value-model.md#first-layer-scale).
    first_layer_scale: float = 0.1
    temperature_init: float = 1.0
    temperature_min: float = 0.1
    temperature_max: float = 10.0
    backbone_id: str = "deepseek-ai/DeepSeek-Prover-V2-7B"
    # Which text is embedded for a state: training, probes and search must all use the same
    # (docs/value-model.md#embeddings).
    embedding_text_format: str = "raw_state"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        problems = []
        if not isinstance(self.embedding_dim, int) or self.embedding_dim < 1:
            problems.append(f"embedding_dim must be a positive int, got {self.embedding_dim!r}")
        if not self.hidden_dims or not all(isinstance(h, int) and h >= 1 for h in self.hidden_dims):
            problems.append(f"hidden_dims must be a non-empty list of positive ints, got {self.hidden_dims!r}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not isinstance(self.power_iterations, int) or self.power_iterations < 1:
            problems.append(f"power_iterations must be an int >= 1, got {self.power_iterations!r}")
        if not (self.first_layer_scale > 0 and math.isfinite(self.first_layer_scale)):
            problems.append(f"first_layer_scale must be positive and finite, got {self.first_layer_scale!r}")
        if not 0 < self.temperature_min <= self.temperature_init <= self.temperature_max < math.inf:
            problems.append(
                "temperatures must satisfy 0 < temperature_min <= temperature_init <= temperature_max < inf, got "
                f"min={self.temperature_min!r}, init={self.temperature_init!r}, max={self.temperature_max!r}"
            )
        if not isinstance(self.backbone_id, str) or not self.backbone_id:
            problems.append(f"backbone_id must be a non-empty string, got {self.backbone_id!r}")
        if self.embedding_text_format not in EMBEDDING_TEXT_FORMATS:
            problems.append(
                f"embedding_text_format {self.embedding_text_format!r} is unknown; "
                f"known: {sorted(EMBEDDING_TEXT_FORMATS)}"
            )
        if problems:
            raise ValueError("invalid EnergyHeadConfig: " + "; ".join(problems))

    @classmethod
    def for_embedding_dim(cls, embedding_dim: int, **overrides: object) -> EnergyHeadConfig:
        """The 7B head's shape scaled to another backbone width: hidden widths D/2, D/4, D/8 (at least 1)."""
        hidden = tuple(max(1, embedding_dim // div) for div in (2, 4, 8))
        return cls(embedding_dim=embedding_dim, hidden_dims=hidden, **overrides)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hidden_dims"] = list(self.hidden_dims)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> EnergyHeadConfig:
        """Strict: an unknown or missing key is an error, never silently dropped (docs/value-model.md#energy-head)."""
        if not isinstance(data, dict):
            raise ValueError(f"energy head config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        missing = sorted(known - set(data))
        if unknown or missing:
            raise ValueError(f"energy head config keys do not match: unknown {unknown}, missing {missing}")
        return cls(**data)


def expected_parameter_count(config: EnergyHeadConfig) -> int:
    """Weights and biases of every layer (the last one has no bias) plus the log-temperature."""
    widths = (3 * config.embedding_dim, *config.hidden_dims, 1)
    count = 0
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        is_last = i == len(widths) - 2
        count += n_in * n_out + (0 if is_last else n_out)
    return count + 1


class GoalConditionedEnergyHead(nn.Module):
    """Scores (state, goal) embedding pairs; `forward` returns energies of shape (B, 1), lower = more provable."""

    def __init__(self, config: EnergyHeadConfig | None = None) -> None:
        super().__init__()
        self.config = config or EnergyHeadConfig()
        cfg = self.config
        widths = (3 * cfg.embedding_dim, *cfg.hidden_dims, 1)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            is_last = i == len(widths) - 2
            layers.append(
                SpectralNormLinear(
                    n_in,
                    n_out,
                    # An energy offset is meaningless for ranking and InfoNCE, so the output layer has no bias.
                    bias=not is_last,
                    power_iterations=cfg.power_iterations,
                    output_scale=cfg.first_layer_scale if i == 0 else 1.0,
                )
            )
        self.layers = nn.ModuleList(layers)
        self.activation = nn.SiLU()
        self.dropout = nn.Dropout(cfg.dropout)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(cfg.temperature_init)))
        self._output_weight_cache: tuple[tuple, torch.Tensor] | None = None

    @property
    def embedding_dim(self) -> int:
        return self.config.embedding_dim

    @property
    def temperature(self) -> torch.Tensor:
        """tau = exp(log_temperature) clamped to [temperature_min, temperature_max]."""
        low = math.log(self.config.temperature_min)
        high = math.log(self.config.temperature_max)
        return torch.clamp(self.log_temperature, low, high).exp()

    def _check_embeddings(self, z_state: torch.Tensor, z_goal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dim = self.config.embedding_dim
        for name, tensor in (("z_state", z_state), ("z_goal", z_goal)):
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
            if not tensor.is_floating_point():
                raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
            if tensor.ndim not in (1, 2) or tensor.shape[-1] != dim:
                raise ValueError(
                    f"{name} must have shape (batch, {dim}) or ({dim},) for this head "
                    f"(backbone {self.config.backbone_id!r}), got {tuple(tensor.shape)}"
                )
        if z_state.ndim == 1:
            z_state = z_state.unsqueeze(0)
        if z_goal.ndim == 1:
            z_goal = z_goal.unsqueeze(0)
        if z_goal.shape[0] == 1 and z_state.shape[0] != 1:
            # One goal for a whole batch of states: the usual search case (all children of one theorem).
            z_goal = z_goal.expand(z_state.shape[0], -1)
        elif z_goal.shape[0] != z_state.shape[0]:
            raise ValueError(
                f"z_goal has {z_goal.shape[0]} rows but z_state has {z_state.shape[0]}; "
                "give one goal per state or a single goal for all"
            )
        return z_state, z_goal

    def raw_energy(self, z_state: torch.Tensor, z_goal: torch.Tensor) -> torch.Tensor:
        """The MLP's output before the temperature, shape (B, 1)."""
        z_state, z_goal = self._check_embeddings(z_state, z_goal)
        x = torch.cat((z_state, z_goal, z_state * z_goal), dim=-1)
        for layer in self.layers[:-1]:
            x = self.dropout(self.activation(layer(x)))
        return self.layers[-1](x)

    def forward(self, z_state: torch.Tensor, z_goal: torch.Tensor) -> torch.Tensor:
        """Energy = raw_energy / tau, shape (B, 1); lower = more provable."""
        if not self.training and not torch.is_grad_enabled():
            return self._inference_energy(z_state, z_goal)
        raw = self.raw_energy(z_state, z_goal)
        return raw / self.temperature.to(raw.dtype)

    def _inference_energy(self, z_state: torch.Tensor, z_goal: torch.Tensor) -> torch.Tensor:
        # The same function as raw_energy / tau, minus what only training needs (dropout is the identity in
        # eval) and minus per-call work: on a GPU a batch of a few hundred states takes about as long as
        # launching the temperature's kernels and walking a dozen modules, so tau is folded into the
        # output layer (it has no bias) and the layers' cached weights are applied directly.
        z_state, z_goal = self._check_embeddings(z_state, z_goal)
        x = torch.cat((z_state, z_goal, z_state * z_goal), dim=-1)
        for layer in self.layers[:-1]:
            x = F.silu(F.linear(x, layer.inference_weight(), layer.bias))
        return F.linear(x, self._inference_output_weight())

    def _inference_output_weight(self) -> torch.Tensor:
        last = self.layers[-1]
        key = (last.inference_cache_key(), self.log_temperature.data_ptr(), self.log_temperature._version)
        if self._output_weight_cache is None or self._output_weight_cache[0] != key:
            weight = last.inference_weight()
            self._output_weight_cache = (key, weight / self.temperature.detach().to(weight.dtype))
        return self._output_weight_cache[1]
