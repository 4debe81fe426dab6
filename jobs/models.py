"""What every job stores (an abstract model), and the artifacts jobs produce."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The state machine: a job only moves forward, and a finished job never changes again.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}
FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class Job(models.Model):
    """A long-running thing a worker executes. Concrete jobs name their `channel_kind`: their live frames go
    to group `<channel_kind>.<id>` and the reaper and consumer find them by it (see jobs.registry)."""

    channel_kind = ""

    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    config = models.JSONField(default=dict, help_text="The full validated configuration the job was launched with.")
    versions = models.JSONField(default=dict, help_text="Versions of every component the job used.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life from a worker.")
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker took the job (redeliveries add one).")
    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True, help_text="Names the job's files and keys.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class Artifact(models.Model):
    """A file or folder a job produced (trajectories, a LoRA adapter, an EBM head, a probe set), with lineage:
    the job that made it (`producer`) and the artifact it was trained from (`parent`)."""

    class Kind(models.TextChoices):
        TRAJECTORIES = "trajectories", "search trajectories"
        LORA = "lora", "LoRA adapter"
        EBM = "ebm", "EBM head"
        BASE = "base", "base model"
        PROBE_SET = "probe_set", "embedding probe set"
        SFT_DATA = "sft_data", "SFT data ((state, tactic) steps)"

    CHECKPOINT_KINDS = (Kind.LORA, Kind.EBM, Kind.BASE)

    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=1000, help_text="File or folder on shared storage.")
    producer_kind = models.CharField(max_length=20, blank=True, help_text="The producing job's kind (run, training).")
    producer_id = models.PositiveBigIntegerField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="The artifact it was trained from.")
    meta = models.JSONField(default=dict, blank=True, help_text="What the producing loop wrote about it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["path"], name="artifact_unique_path")]
        indexes = [models.Index(fields=["producer_kind", "producer_id"], name="artifact_producer")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def made_by(cls, job) -> "models.QuerySet[Artifact]":
        return cls.objects.filter(producer_kind=job.channel_kind, producer_id=job.pk)

    @property
    def producer(self):
        """The job that made it (None when it came from outside, or the job is gone)."""
        from .registry import kinds

        spec = kinds().get(self.producer_kind)
        return spec.model._default_manager.filter(pk=self.producer_id).first() if spec and self.producer_id else None
