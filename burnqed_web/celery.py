"""The Celery app. Queues are declared here and nowhere else; every task names itself and one of them.

gpu: search and training jobs (one worker per GPU, prefetch 1); cpu: Lean-only and data jobs;
default: bookkeeping (aggregation, cleanup).

Tasks are declared with `burnqed_task(name, queue)`, which records the route here (Celery's per-task `queue`
attribute is deprecated) and turns on acks_late, so a task lost with its worker is redelivered.
"""

import os

from celery import Celery, shared_task
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")

QUEUES = ("gpu", "cpu", "default")

# Task name -> queue, filled by burnqed_task as task modules are imported.
TASK_QUEUES: dict[str, str] = {}


def route_task(name, args, kwargs, options, task=None, **kw):
    queue = TASK_QUEUES.get(name)
    return {"queue": queue, "routing_key": queue} if queue else None


def burnqed_task(name: str, queue: str, **options):
    """Declare a task with an explicit name and queue. An undeclared queue fails at import, loudly."""
    if queue not in QUEUES:
        raise ValueError(f"task {name!r} names queue {queue!r}, which is not one of the declared queues {QUEUES}")

    def decorate(function):
        TASK_QUEUES[name] = queue
        return shared_task(name=name, acks_late=True, **options)(function)

    return decorate


app = Celery("burnqed")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = tuple(Queue(name, routing_key=name) for name in QUEUES)
app.conf.task_routes = (route_task,)
app.autodiscover_tasks()
