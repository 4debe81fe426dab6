"""Read-side queries of the training app."""

from .models import TrainingRun


def recent_training_runs(limit: int = 20):
    return TrainingRun.objects.select_related("owner").order_by("-created_at", "-id")[:limit]
