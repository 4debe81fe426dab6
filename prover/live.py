"""Live frames of a run: numbered messages on channel group `run.<id>`, and the run's cancel flag.

Sequence numbers come from one Redis counter per run, so frames from every worker of a run are numbered
without gaps; a browser that sees a gap re-syncs from the API. Frames are sent only after the rows they
describe are committed. Redis keys are named by the run's UUID, not its id: ids restart when a database is
reset, and a stale counter or cancel flag must never attach itself to a new run.
"""

from functools import cache
from typing import NamedTuple

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings


class RunChannel(NamedTuple):
    """Where one run's frames go: group `<kind>.<id>` (kind `run` for searches, `training` for training runs)."""

    id: int
    key: str
    kind: str = "run"

    @classmethod
    def of(cls, run, kind: str = "run") -> "RunChannel":
        return cls(run.pk, run.key.hex, kind)

    @property
    def group(self) -> str:
        return f"{self.kind}.{self.id}"

    def redis_key(self, what: str) -> str:
        prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "burnqed")
        return f"{prefix}:{self.kind}:{self.key}:{what}"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def last_seq(channel: RunChannel) -> int:
    value = _redis().get(channel.redis_key("seq"))
    return int(value) if value else 0


def send_frame(channel: RunChannel, kind: str, payload: dict) -> int:
    """Number and send one frame to everyone watching the run; returns its sequence number."""
    seq = int(_redis().incr(channel.redis_key("seq")))
    frame = {"type": "run.frame", "seq": seq, "kind": kind, "payload": payload}  # handled by run_frame()
    async_to_sync(get_channel_layer().group_send)(channel.group, frame)
    return seq


def request_cancel(channel: RunChannel) -> None:
    """Raise the flag that every worker of the run polls between expansions (expires after a week)."""
    _redis().set(channel.redis_key("cancel"), "1", ex=7 * 24 * 3600)


def cancel_requested(channel: RunChannel) -> bool:
    return bool(_redis().exists(channel.redis_key("cancel")))
