"""EBM training (decoupled, frozen embeddings): samples from trajectory files, an InfoNCE loop for
GoalConditionedEnergyHead, checkpoints with their lineage, and a CLI. No Django here.

    from training.ebm import EbmTrainConfig, InProcessEmbedder, train_energy_head
    result = train_energy_head(["run.parquet"], InProcessEmbedder("model/"), "out/", EbmTrainConfig(steps=500),
                               on_metric=lambda name, value, step: ..., should_cancel=lambda: False)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EbmDataset": "training.ebm.samples",
    "EbmSample": "training.ebm.samples",
    "SampleConfig": "training.ebm.samples",
    "SampleError": "training.ebm.samples",
    "build_samples": "training.ebm.samples",
    "CachedEmbedder": "training.ebm.embeddings",
    "Embedder": "training.ebm.embeddings",
    "EmbeddingError": "training.ebm.embeddings",
    "HttpEmbedder": "training.ebm.embeddings",
    "InProcessEmbedder": "training.ebm.embeddings",
    "EbmTrainConfig": "training.ebm.train",
    "EbmTrainResult": "training.ebm.train",
    "EbmTrainingError": "training.ebm.train",
    "TemperatureAbortError": "training.ebm.train",
    "META_FILENAME": "training.ebm.train",
    "train_energy_head": "training.ebm.train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'training.ebm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
