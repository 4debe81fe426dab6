"""Read-side queries shared by pages and the API, each a fixed number of SQL queries whatever the data size."""

from django.db.models import Count, QuerySet

from .models import Dataset, Run


def datasets_with_counts() -> QuerySet[Dataset]:
    return Dataset.objects.annotate(theorem_count=Count("theorems", distinct=True)).order_by("name")


def recent_runs(limit: int = 50) -> QuerySet[Run]:
    return Run.objects.select_related("owner", "dataset").order_by("-created_at", "-id")[:limit]
