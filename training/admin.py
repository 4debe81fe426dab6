from django.contrib import admin

from .models import Checkpoint, Iteration, MetricPoint, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "kind", "status", "steps_done", "created_at")
    list_filter = ("kind", "status")


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "path", "training_run", "parent", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("training_run", "parent")


@admin.register(Iteration)
class IterationAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "sft_run", "ebm_run", "created_at")
    raw_id_fields = ("parent", "sft_run", "ebm_run")


@admin.register(MetricPoint)
class MetricPointAdmin(admin.ModelAdmin):
    list_display = ("training_run", "name", "step", "value")
    raw_id_fields = ("training_run",)
