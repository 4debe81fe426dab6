"""EBM training (decoupled, frozen embeddings): samples from trajectory files, an InfoNCE loop for
GoalConditionedEnergyHead, checkpoints with their lineage, and a CLI. No Django here.

    from training.ebm import EbmTrainConfig, InProcessEmbedder, train_energy_head
    result = train_energy_head(["run.parquet"], InProcessEmbedder("model/"), "out/", EbmTrainConfig(steps=500),
                               on_metric=lambda name, value, step: ..., should_cancel=lambda: False)
"""

from training.ebm.embeddings import (
    CachedEmbedder,
    Embedder,
    EmbeddingError,
    HttpEmbedder,
    InProcessEmbedder,
)
from training.ebm.samples import (
    EbmDataset,
    EbmSample,
    SampleConfig,
    SampleError,
    build_samples,
)
from training.ebm.train import (
    META_FILENAME,
    EbmTrainConfig,
    EbmTrainingError,
    EbmTrainResult,
    TemperatureAbortError,
    train_energy_head,
)

__all__ = [
    "CachedEmbedder",
    "EbmDataset",
    "EbmSample",
    "EbmTrainConfig",
    "EbmTrainResult",
    "EbmTrainingError",
    "Embedder",
    "EmbeddingError",
    "HttpEmbedder",
    "InProcessEmbedder",
    "META_FILENAME",
    "SampleConfig",
    "SampleError",
    "TemperatureAbortError",
    "build_samples",
    "train_energy_head",
]
