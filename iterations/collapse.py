"""Embedding collapse of a checkpoint: its centroid_l2 on the chain's probe set fell by more than half against
the checkpoint it was trained from (docs/expert-iteration.md#collapse). A collapsed checkpoint is flagged wherever checkpoints are
picked and is never the default policy."""

from jobs.models import Artifact
from training.models import MetricPoint, TrainingRun

from .targets import PROBE_METRICS

COLLAPSE_RATIO = 0.5


def centroid_l2_of(checkpoint: Artifact) -> float | None:
    """The last centroid_l2 the probes measured for this checkpoint's embeddings (None: never probed)."""
    probes = TrainingRun.objects.filter(kind="probes", base_checkpoint=checkpoint, status="succeeded")
    point = MetricPoint.objects.filter(training_run__in=probes, name=PROBE_METRICS["centroid_l2"]).order_by(
        "-training_run__finished_at", "-step").first()
    return point.value if point else None


def is_collapsed(checkpoint: Artifact) -> bool:
    if checkpoint.parent is None:
        return False
    mine, parents = centroid_l2_of(checkpoint), centroid_l2_of(checkpoint.parent)
    return mine is not None and parents is not None and parents > 0 and mine < COLLAPSE_RATIO * parents


def collapsed_ids() -> set[int]:
    return {a.pk for a in Artifact.objects.filter(kind=Artifact.Kind.LORA).exclude(parent=None) if is_collapsed(a)}


def default_policy() -> Artifact | None:
    """The LoRA checkpoint a launch form offers first: the newest one whose embeddings did not collapse."""
    collapsed = collapsed_ids()
    for artifact in Artifact.objects.filter(kind=Artifact.Kind.LORA).order_by("-created_at", "-pk"):
        if artifact.pk not in collapsed:
            return artifact
    return None
