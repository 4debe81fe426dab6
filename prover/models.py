"""What the service stores: datasets of theorems, runs over them, per-theorem results and the proof trees."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from jobs.models import Job


class Dataset(models.Model):
    name = models.CharField(max_length=200, unique=True)
    source = models.CharField(max_length=500, blank=True, help_text="Where the file came from (repository, commit).")
    licence = models.CharField(max_length=200, blank=True)
    lean_version = models.CharField(max_length=100, blank=True, help_text="e.g. v4.24.0; runs check it.")
    mathlib_version = models.CharField(max_length=100, blank=True)
    format = models.CharField(max_length=40, blank=True, help_text="The importer format it was read with.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def statement_hash(statement: str) -> str:
    """Content hash of a statement, whitespace-insensitive: the same problem in two datasets hashes alike."""
    return hashlib.sha256(" ".join(statement.split()).encode()).hexdigest()


class Theorem(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="theorems")
    name = models.CharField(max_length=300)
    split = models.CharField(max_length=40, blank=True)
    statement = models.TextField(help_text="The closed expression given to Lean's goal.start.")
    formal_statement = models.TextField(blank=True, help_text="The full `theorem … :=` declaration, where known.")
    header = models.TextField(blank=True)
    informal_statement = models.TextField(blank=True)
    informal_proof = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=500, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["dataset_id", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="theorem_unique_name_per_dataset")]
        indexes = [models.Index(fields=["dataset", "split", "name"], name="theorem_dataset_split")]

    def __str__(self) -> str:
        return self.name


class KnownProof(models.Model):
    """A complete proof released by some prover, kept for replay checks and SFT data."""

    theorem = models.ForeignKey(Theorem, on_delete=models.CASCADE, related_name="known_proofs")
    proof = models.TextField()
    source = models.CharField(max_length=500, blank=True)
    lean_version = models.CharField(max_length=200, blank=True)
    full_code = models.TextField(blank=True)
    tactics = models.JSONField(default=list, blank=True)


class ImportJob(Job):
    """A large data file imported in the background (docs/data.md#large-imports): the upload waits on shared
    storage, a `cpu` worker parses and stores it all or nothing, and `done`/`total` show how far it got."""

    channel_kind = "import"

    class Phase(models.TextChoices):
        WAITING = "waiting"
        READING = "reading", "reading the file"
        STORING = "storing", "storing theorems"
        DONE = "done"

    file_name = models.CharField(max_length=500, help_text="The uploaded file's name.")
    file_format = models.CharField(max_length=40)
    size_bytes = models.PositiveBigIntegerField()
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.WAITING)
    done = models.PositiveIntegerField(default=0, help_text="Theorems stored so far.")
    total = models.PositiveIntegerField(default=0, help_text="Theorems expected (an estimate until read).")
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports")
    summary = models.JSONField(default=dict, blank=True, help_text="What the import stored, once it succeeded.")

    class Meta(Job.Meta):
        pass

    def __str__(self) -> str:
        return f"import {self.pk} of {self.file_name} as {self.name}"


class Run(Job):
    """A search over theorems of a dataset (an eval, or a search for training data), spread over workers."""

    channel_kind = "run"

    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    cloned_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    # Counters, updated as theorems finish, so list pages never aggregate the node table.
    theorems_total = models.PositiveIntegerField(default=0)
    theorems_done = models.PositiveIntegerField(default=0)
    theorems_proved = models.PositiveIntegerField(default=0)
    nodes_expanded = models.PositiveBigIntegerField(default=0)
    tokens = models.PositiveBigIntegerField(default=0, help_text="Generated (completion) tokens, all theorems.")
    lean_ms = models.PositiveBigIntegerField(default=0)
    generate_ms = models.PositiveBigIntegerField(default=0)
    ebm_ms = models.PositiveBigIntegerField(default=0)

    class Meta(Job.Meta):
        pass

    def __str__(self) -> str:
        return self.name or f"run {self.pk}"


class TheoremResult(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        PROVED = "proved"
        FAILED = "failed"
        ERROR = "error"
        CANCELLED = "cancelled"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="results")
    theorem = models.ForeignKey(Theorem, on_delete=models.PROTECT, related_name="results")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    proof = models.TextField(blank=True, help_text="The whole proof text, re-checked in a fresh REPL.")
    proof_tactics = models.JSONField(default=list, blank=True)
    nodes_expanded = models.PositiveIntegerField(default=0)
    total_states = models.PositiveIntegerField(default=0)
    max_depth = models.PositiveIntegerField(default=0)
    tokens = models.PositiveBigIntegerField(default=0, help_text="Generated (completion) tokens of the whole search.")
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    tokens_to_proof = models.PositiveBigIntegerField(null=True, blank=True,
                                                     help_text="Generated tokens spent when the proof was found.")
    nodes_to_proof = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="Nodes expanded when the proof was found.")
    wall_ms = models.PositiveBigIntegerField(default=0)
    lean_ms = models.PositiveBigIntegerField(default=0)
    generate_ms = models.PositiveBigIntegerField(default=0)
    ebm_ms = models.PositiveBigIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "theorem__name"]
        constraints = [models.UniqueConstraint(fields=["run", "theorem"], name="result_unique_theorem_per_run")]
        indexes = [models.Index(fields=["theorem", "run"], name="result_theorem_history")]


class ProofNode(models.Model):
    """One proof state of a search tree. `node_id` is the engine's id, unique within (run, theorem).

    The parent is `parent_node_id` in the same (run, theorem) tree, not a foreign key: trees are written with
    COPY in large batches, and the engine's ids are what its events and the browser speak.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        PROVED = "proved"
        FAILED = "failed"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="nodes")
    theorem = models.ForeignKey(Theorem, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.PositiveIntegerField()
    parent_node_id = models.PositiveIntegerField(null=True, blank=True)
    tactic = models.TextField(blank=True)
    goal_text = models.TextField(blank=True)
    goal_hash = models.CharField(max_length=64, blank=True)
    depth = models.PositiveIntegerField(default=0)
    log_prob = models.FloatField(null=True, blank=True)
    energy = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    is_terminal = models.BooleanField(default=False)
    expansion_order = models.PositiveIntegerField(null=True, blank=True)
    merged_count = models.PositiveIntegerField(default=0, help_text="Other edges that reached this same state.")
    lean_ms = models.FloatField(default=0)
    generate_ms = models.FloatField(default=0)
    error = models.TextField(blank=True, help_text="Lean's message for a failed tactic.")
    kind = models.CharField(max_length=20, blank=True, help_text="root, state, terminal or failed_tactic.")
    num_goals = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=20, blank=True, help_text="root, policy, replay or probe.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run_id", "theorem_id", "node_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "theorem", "node_id"], name="node_unique_id_per_tree"),
        ]
        indexes = [
            models.Index(fields=["run", "theorem", "parent_node_id"], name="node_tree_children"),
            models.Index(fields=["run", "theorem", "expansion_order"], name="node_tree_expansion"),
            models.Index(fields=["goal_hash"], name="node_goal_hash"),
        ]


class RunMetric(models.Model):
    """A time series point of a run (nodes/s, pool health, ...), for the live counters and comparisons."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    step = models.PositiveBigIntegerField(default=0)
    value = models.FloatField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run_id", "name", "step"]
        indexes = [models.Index(fields=["run", "name", "step"], name="metric_series")]
