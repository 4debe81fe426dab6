"""Training curves: metric points from a training loop -> MetricPoint rows and numbered frames on
`training.<id>`, batched (a loop may log every step; the browser wants a few frames a second)."""

import time

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from jobs.bulk import insert_rows
from jobs.live import JobChannel, send_frame

from .models import MetricPoint, TrainingRun


class MetricRecorder:
    """Call it as the loop's `on_metric(name, value, step)`; `close()` writes what is left."""

    def __init__(self, training_run: TrainingRun, *, interval: float = 0.25) -> None:
        self.run_id = training_run.pk
        self.channel = JobChannel.of(training_run)
        self.interval = interval
        self._points: list[tuple[str, float, int]] = []
        self._last_flush = time.monotonic()

    def __call__(self, name: str, value: float, step: int) -> None:
        self._points.append((name, float(value), int(step)))
        if time.monotonic() - self._last_flush >= self.interval:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._points:
            return
        points, self._points = self._points, []
        now = timezone.now()
        with transaction.atomic():
            insert_rows(MetricPoint._meta.db_table, ("training_run_id", "name", "step", "value", "recorded_at"),
                        [(self.run_id, name, step, value, now) for name, value, step in points])
            # Never backwards: a validation point may be logged for an earlier step than the last training one.
            TrainingRun.objects.filter(pk=self.run_id).update(
                steps_done=Greatest(F("steps_done"), max(step for _, _, step in points)))
            send_frame(self.channel, "metrics", {"points": [{"name": n, "value": v, "step": s} for n, v, s in points]})

    def close(self) -> None:
        self.flush()
