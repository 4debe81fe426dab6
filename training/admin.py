from django.contrib import admin

from .models import MetricPoint, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "kind", "status", "steps_done", "created_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("base_checkpoint",)


@admin.register(MetricPoint)
class MetricPointAdmin(admin.ModelAdmin):
    list_display = ("training_run", "name", "step", "value")
    raw_id_fields = ("training_run",)
