"""Checkpoints become jobs.Artifact rows with the same lineage: existing checkpoints are copied, and each
training run gets a pointer to the copy of its base checkpoint (0003 swaps it in)."""

import django.db.models.deletion
from django.db import migrations, models


def copy_checkpoints(apps, schema_editor):
    Checkpoint = apps.get_model("training", "Checkpoint")
    Artifact = apps.get_model("jobs", "Artifact")
    TrainingRun = apps.get_model("training", "TrainingRun")
    copies = {}
    for checkpoint in Checkpoint.objects.order_by("created_at", "pk"):
        copies[checkpoint.pk] = Artifact.objects.create(
            kind=checkpoint.kind, name=checkpoint.name, path=checkpoint.path, meta=checkpoint.meta,
            created_at=checkpoint.created_at, parent=copies.get(checkpoint.parent_id),
            producer_kind="training" if checkpoint.training_run_id else "", producer_id=checkpoint.training_run_id)
    for run in TrainingRun.objects.exclude(base_checkpoint=None):
        run.base_artifact = copies[run.base_checkpoint_id]
        run.save(update_fields=["base_artifact"])


def copy_artifacts_back(apps, schema_editor):
    Checkpoint = apps.get_model("training", "Checkpoint")
    Artifact = apps.get_model("jobs", "Artifact")
    TrainingRun = apps.get_model("training", "TrainingRun")
    copies = {}
    for artifact in Artifact.objects.filter(kind__in=("lora", "ebm", "base")).order_by("created_at", "pk"):
        copies[artifact.pk] = Checkpoint.objects.create(
            kind=artifact.kind, name=artifact.name, path=artifact.path, meta=artifact.meta,
            created_at=artifact.created_at, parent=copies.get(artifact.parent_id),
            training_run_id=artifact.producer_id if artifact.producer_kind == "training" else None)
    for run in TrainingRun.objects.exclude(base_artifact=None):
        run.base_checkpoint = copies[run.base_artifact_id]
        run.base_artifact = None
        run.save(update_fields=["base_checkpoint", "base_artifact"])
    for pk in reversed(list(copies)):  # children first: an artifact protects its parent
        Artifact.objects.filter(pk=pk).delete()


class Migration(migrations.Migration):
    # The copy runs in a transaction of its own, apart from the column changes: PostgreSQL refuses to alter a
    # table whose rows were written earlier in the same transaction.
    atomic = False

    dependencies = [
        ('jobs', '0001_initial'),
        ('training', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='trainingrun',
            name='base_artifact',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='jobs.artifact'),
        ),
        migrations.RunPython(copy_checkpoints, copy_artifacts_back),
    ]
