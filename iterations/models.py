"""What expert iteration stores: iterations (jobs of jobs) and their steps, each step pointing at the job it
launched and the artifacts it produced."""

from django.db import models
from django.utils import timezone

from jobs.models import Artifact, Job


class Iteration(Job):
    channel_kind = "iteration"

    number = models.PositiveIntegerField(default=0, help_text="0 for the first iteration of a chain.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="The iteration whose policy and data this one starts from.")

    class Meta(Job.Meta):
        pass

    def __str__(self) -> str:
        return self.name or f"iteration {self.number} (#{self.pk})"

    def chain(self) -> list["Iteration"]:
        """This iteration and its ancestors, oldest first."""
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


class IterationStep(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        SKIPPED = "skipped"

    iteration = models.ForeignKey(Iteration, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=40, help_text="What the step does (iterations/plan.py).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    job_kind = models.CharField(max_length=20, blank=True, help_text="The kind of job it launched (run, training).")
    job_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Its latest job.")
    attempts = models.PositiveIntegerField(default=0, help_text="Jobs launched for this step.")
    outputs = models.JSONField(default=dict, blank=True, help_text="Artifact ids and figures it produced.")
    artifacts = models.ManyToManyField(Artifact, blank=True, related_name="iteration_steps")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["iteration_id", "position"]
        constraints = [models.UniqueConstraint(fields=["iteration", "position"], name="step_unique_position")]
        indexes = [models.Index(fields=["job_kind", "job_id"], name="step_job")]

    def __str__(self) -> str:
        return f"{self.iteration} step {self.position}: {self.name}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.SKIPPED)
