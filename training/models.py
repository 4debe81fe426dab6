"""What training stores: runs of the training loops, their metric curves, the checkpoints they produce (with
lineage), and the iterations of expert iteration that chain them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from prover.models import FINISHED, RunStatus


class TrainingRun(models.Model):
    class Kind(models.TextChoices):
        SFT = "sft", "LoRA SFT of the policy"
        EBM = "ebm", "energy-based value model"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    config = models.JSONField(default=dict, help_text="The full validated configuration of the loop.")
    versions = models.JSONField(default=dict)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    base_checkpoint = models.ForeignKey("Checkpoint", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="derived_runs", help_text="What this run starts from.")
    source_runs = models.ManyToManyField("prover.Run", blank=True, related_name="training_runs",
                                         help_text="Search runs whose trajectories this run trains on.")
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    steps_done = models.PositiveIntegerField(default=0)
    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"{self.kind} training {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


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


class Checkpoint(models.Model):
    """A LoRA adapter or an EBM head on disk, with where it came from."""

    class Kind(models.TextChoices):
        LORA = "lora", "LoRA adapter"
        EBM = "ebm", "EBM head"
        BASE = "base", "base model"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=1000, help_text="Folder on shared storage.")
    training_run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="checkpoints")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="The checkpoint it was trained from.")
    meta = models.JSONField(default=dict, blank=True, help_text="The loop's training_meta.json.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["path"], name="checkpoint_unique_path")]

    def __str__(self) -> str:
        return self.name


class Iteration(models.Model):
    """One round of expert iteration: SFT, then EBM, then evals (LLM-only and LLM+EBM), then search for data."""

    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="next")
    sft_run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ebm_run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    eval_runs = models.ManyToManyField("prover.Run", blank=True, related_name="iterations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.name or f"iteration {self.number}"
