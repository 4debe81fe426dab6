"""Celery tasks every job kind shares (declared with burnqed_task: explicit name and queue)."""

import os
import socket

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from burnqed_web.celery import burnqed_task
from prover.engine.provenance import package_versions

from .consumers import HEALTH_GROUP


@burnqed_task(name="burnqed.worker_info", queue="default")
def worker_info(note: str = "") -> dict:
    """Report which worker answered and what it runs; also announce it to every open dashboard."""
    info = {"hostname": socket.gethostname(), "pid": os.getpid(), "note": note, "versions": package_versions()}
    async_to_sync(get_channel_layer().group_send)(HEALTH_GROUP, {"type": "health.event", "payload": info})
    return info


@burnqed_task(name="burnqed.reap_stale_jobs", queue="default")
def reap_stale_jobs() -> list[list]:
    """Periodic (celery beat): fail running jobs of every kind whose workers stopped reporting."""
    from .reaper import reap_stale_jobs as reap

    return [list(item) for item in reap()]
