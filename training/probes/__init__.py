"""Embedding and EBM probes, computed the same way for every checkpoint so that they compare
(docs/probes.md). Plain Python: never imports Django.

    from training.probes import build_probe_set, save_probe_set, load_probe_set, compute_probes
    metrics = compute_probes(embed, probe_set, heads={"": head})   # {"probe/centroid_l2": ..., ...}
"""

from training.probes.metrics import (
    delta_cosine,
    effective_dimension,
    linear_probe_accuracy,
    rank1_at_decision_points,
)
from training.probes.probe_set import (
    DecisionPoint,
    ProbeSet,
    ProbeSetError,
    ProbeState,
    build_probe_set,
    load_probe_set,
    save_probe_set,
)
from training.probes.run import compute_probes, model_embedder

__all__ = [
    "DecisionPoint",
    "ProbeSet",
    "ProbeSetError",
    "ProbeState",
    "build_probe_set",
    "compute_probes",
    "delta_cosine",
    "effective_dimension",
    "linear_probe_accuracy",
    "load_probe_set",
    "model_embedder",
    "rank1_at_decision_points",
    "save_probe_set",
]
