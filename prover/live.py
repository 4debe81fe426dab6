"""Live frames of a run: numbered messages on channel group `run.<id>`.

Sequence numbers come from one Redis counter per run, so frames from every worker of a run are numbered
without gaps; a browser that sees a gap re-syncs from the API. Frames are sent only after the rows they
describe are committed.
"""

from functools import cache

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings


def group_name(run_id: int) -> str:
    return f"run.{run_id}"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _seq_key(run_id: int) -> str:
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'burnqed')}:run:{run_id}:seq"


def last_seq(run_id: int) -> int:
    value = _redis().get(_seq_key(run_id))
    return int(value) if value else 0


def send_frame(run_id: int, kind: str, payload: dict) -> int:
    """Number and send one frame to everyone watching the run; returns its sequence number."""
    seq = int(_redis().incr(_seq_key(run_id)))
    frame = {"type": "run.frame", "seq": seq, "kind": kind, "payload": payload}
    async_to_sync(get_channel_layer().group_send)(group_name(run_id), frame)
    return seq


def cancel_key(run_id: int) -> str:
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'burnqed')}:run:{run_id}:cancel"


def request_cancel(run_id: int) -> None:
    """Raise the flag that every worker of the run polls between expansions (expires after a day)."""
    _redis().set(cancel_key(run_id), "1", ex=24 * 3600)


def cancel_requested(run_id: int) -> bool:
    return bool(_redis().exists(cancel_key(run_id)))
