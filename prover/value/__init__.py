"""Energy-based value model: GoalConditionedEnergyHead, encoder client, batch scorer. No Django.

Names are imported lazily, so that `prover.value.energy_head` (torch only) can be used where the HTTP
client's dependencies are not installed, e.g. a benchmark on a bare GPU machine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, imported for type checkers and import-linter (which sees these imports)
    from prover.value.checkpoint import load_energy_head, read_energy_head_config, save_energy_head  # noqa: F401
    from prover.value.embedding_cache import EmbeddingCache  # noqa: F401
    from prover.value.encoder_client import EncoderClient  # noqa: F401
    from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead, expected_parameter_count  # noqa: F401
    from prover.value.errors import CheckpointError, EncodeError, ScoringError, ValueModelError  # noqa: F401
    from prover.value.scorer import (  # noqa: F401
        EmbeddingSource,
        EnergyScorer,
        InProcessEnergyScorer,
        http_scorer_from_checkpoint,
    )

_EXPORTS = {
    "CheckpointError": "prover.value.errors",
    "EncodeError": "prover.value.errors",
    "ScoringError": "prover.value.errors",
    "ValueModelError": "prover.value.errors",
    "EmbeddingCache": "prover.value.embedding_cache",
    "EncoderClient": "prover.value.encoder_client",
    "EnergyHeadConfig": "prover.value.energy_head",
    "GoalConditionedEnergyHead": "prover.value.energy_head",
    "expected_parameter_count": "prover.value.energy_head",
    "load_energy_head": "prover.value.checkpoint",
    "read_energy_head_config": "prover.value.checkpoint",
    "save_energy_head": "prover.value.checkpoint",
    "EmbeddingSource": "prover.value.scorer",
    "EnergyScorer": "prover.value.scorer",
    "InProcessEnergyScorer": "prover.value.scorer",
    "http_scorer_from_checkpoint": "prover.value.scorer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'prover.value' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
