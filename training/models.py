"""What training stores: runs of the training loops and their metric curves. What a run produces (a LoRA
adapter, an EBM head) is a jobs.Artifact with its lineage: the run that made it and the artifact it started from."""

from django.db import models
from django.utils import timezone

from jobs.models import Artifact, Job


class TrainingRun(Job):
    channel_kind = "training"

    class Kind(models.TextChoices):
        SFT = "sft", "LoRA SFT of the policy"
        JOINT = "joint", "joint LoRA SFT + EBM through the same LoRA"
        EBM = "ebm", "energy-based value model"
        PROBES = "probes", "embedding probes of a checkpoint"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    base_checkpoint = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="derived_runs", help_text="What this run starts from.")
    inputs = models.ManyToManyField(Artifact, blank=True, related_name="consumers",
                                    help_text="Artifacts this run trains on (e.g. a search run's trajectories).")
    steps_done = models.PositiveIntegerField(default=0)

    class Meta(Job.Meta):
        pass

    def __str__(self) -> str:
        return self.name or f"{self.kind} training {self.pk}"


class MetricPoint(models.Model):
    """One point of a training curve (loss, validation loss, EBM temperature, probes ...)."""

    training_run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    step = models.PositiveIntegerField()
    value = models.FloatField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["training_run_id", "name", "step"]
        indexes = [models.Index(fields=["training_run", "name", "step"], name="training_metric_series")]
