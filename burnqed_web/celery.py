"""The Celery app. Queues are declared here and nowhere else; every task names one of them explicitly.

gpu: search and training jobs (one worker per GPU, prefetch 1); cpu: Lean-only and data jobs;
default: bookkeeping (aggregation, cleanup).
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")

QUEUES = ("gpu", "cpu", "default")

app = Celery("burnqed")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = tuple(Queue(name, routing_key=name) for name in QUEUES)
app.autodiscover_tasks()
