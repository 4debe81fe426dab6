"""Energy-based value model: GoalConditionedEnergyHead, encoder client, batch scorer. No Django."""

from prover.value.checkpoint import load_energy_head, read_energy_head_config, save_energy_head
from prover.value.embedding_cache import EmbeddingCache
from prover.value.encoder_client import EncoderClient
from prover.value.energy_head import EnergyHeadConfig, GoalConditionedEnergyHead, expected_parameter_count
from prover.value.errors import CheckpointError, EncodeError, ScoringError, ValueModelError
from prover.value.scorer import EmbeddingSource, EnergyScorer, InProcessEnergyScorer

__all__ = [
    "CheckpointError",
    "EmbeddingCache",
    "EmbeddingSource",
    "EncodeError",
    "EncoderClient",
    "EnergyHeadConfig",
    "EnergyScorer",
    "GoalConditionedEnergyHead",
    "InProcessEnergyScorer",
    "ScoringError",
    "ValueModelError",
    "expected_parameter_count",
    "load_energy_head",
    "read_energy_head_config",
    "save_energy_head",
]
