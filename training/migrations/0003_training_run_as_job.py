"""Training runs become jobs (heartbeat, attempts); their base checkpoint now points at the jobs.Artifact copy
made by 0002, and the old checkpoint and iteration tables go. (A separate migration from the copy: PostgreSQL
refuses to alter a table with rows written in the same transaction.)"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('training', '0002_checkpoints_as_artifacts'),
    ]

    operations = [
        migrations.RemoveField(model_name='trainingrun', name='base_checkpoint'),
        migrations.RenameField(model_name='trainingrun', old_name='base_artifact', new_name='base_checkpoint'),
        migrations.AlterField(
            model_name='trainingrun',
            name='base_checkpoint',
            field=models.ForeignKey(blank=True, help_text='What this run starts from.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='derived_runs', to='jobs.artifact'),
        ),
        migrations.RemoveField(
            model_name='iteration',
            name='ebm_run',
        ),
        migrations.RemoveField(
            model_name='iteration',
            name='eval_runs',
        ),
        migrations.RemoveField(
            model_name='iteration',
            name='parent',
        ),
        migrations.RemoveField(
            model_name='iteration',
            name='sft_run',
        ),
        migrations.RemoveField(
            model_name='trainingrun',
            name='source_runs',
        ),
        migrations.AddField(
            model_name='trainingrun',
            name='attempts',
            field=models.PositiveIntegerField(default=0, help_text='Times a worker took the job (redeliveries add one).'),
        ),
        migrations.AddField(
            model_name='trainingrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Last sign of life from a worker.', null=True),
        ),
        migrations.AddField(
            model_name='trainingrun',
            name='inputs',
            field=models.ManyToManyField(blank=True, help_text="Artifacts this run trains on (e.g. a search run's trajectories).", related_name='consumers', to='jobs.artifact'),
        ),
        migrations.AlterField(
            model_name='trainingrun',
            name='config',
            field=models.JSONField(default=dict, help_text='The full validated configuration the job was launched with.'),
        ),
        migrations.AlterField(
            model_name='trainingrun',
            name='key',
            field=models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names the job's files and keys.", unique=True),
        ),
        migrations.AlterField(
            model_name='trainingrun',
            name='versions',
            field=models.JSONField(default=dict, help_text='Versions of every component the job used.'),
        ),
        migrations.DeleteModel(
            name='Checkpoint',
        ),
        migrations.DeleteModel(
            name='Iteration',
        ),
    ]
