"""Celery tasks of the prover app. Every task names itself and its queue explicitly (see burnqed_web.celery)."""

import os
import socket

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from burnqed_web.celery import burnqed_task

from .consumers import HEALTH_GROUP
from .versions import package_versions


@burnqed_task(name="burnqed.worker_info", queue="default")
def worker_info(note: str = "") -> dict:
    """Report which worker answered and what it runs; also announce it to every open dashboard."""
    info = {"hostname": socket.gethostname(), "pid": os.getpid(), "note": note, "versions": package_versions()}
    async_to_sync(get_channel_layer().group_send)(HEALTH_GROUP, {"type": "health.event", "payload": info})
    return info


@burnqed_task(name="burnqed.run_chunk", queue="gpu")
def run_chunk(run_id: int, run_key: str, chunk: int, theorem_ids: list[int]) -> dict:
    """Search a few theorems of a run on this worker's GPU, policy server and Lean pool."""
    from .execution import run_chunk_safely

    return run_chunk_safely(run_id, run_key, chunk, theorem_ids)


@burnqed_task(name="burnqed.finish_run", queue="default")
def finish_run(run_id: int, run_key: str) -> str:
    """After every chunk of a run: close it and merge its trajectories."""
    from .models import Run
    from .services import finish_run as finish

    if not Run.objects.filter(pk=run_id, key=run_key).exists():
        return "unknown run"  # a message older than this database: the run it meant is gone
    return finish(run_id=run_id).status


@burnqed_task(name="burnqed.reap_stale_runs", queue="default")
def reap_stale_runs() -> list[int]:
    """Periodic (celery beat): fail running runs whose workers stopped reporting."""
    from django.conf import settings

    from .services import reap_stale_runs as reap

    return reap(silence_s=settings.BURNQED_RUN_STALE_S)
