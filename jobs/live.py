"""Live frames of a job: numbered messages on channel group `<kind>.<id>`, and the job's cancel flag.

Sequence numbers come from one Redis counter per job, so frames from every worker of a job are numbered
without gaps; a browser that sees a gap re-syncs from the API. A frame is sent only after the transaction
that wrote the rows it describes has committed (`send_frame` defers itself to the commit). A frame that cannot
be sent (Redis restarting or unreachable) is dropped, never raised into the job that committed its rows, and
leaves a gap the browser can see: the next frame this process sends to that job skips one number (frames are
numbered by Redis, so a frame lost before it got its number would otherwise leave no trace). Redis keys are
named by the job's UUID, not its id: ids restart when a database is reset, and a stale counter or cancel flag
must never attach itself to a new job.
"""

import logging
from functools import cache
from typing import NamedTuple

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


class JobChannel(NamedTuple):
    """Where one job's frames go: group `<kind>.<id>`, e.g. `run.12` or `training.3`."""

    id: int
    key: str
    kind: str

    @classmethod
    def of(cls, job) -> "JobChannel":
        return cls(job.pk, job.key.hex, job.channel_kind)

    @property
    def group(self) -> str:
        return f"{self.kind}.{self.id}"

    def redis_key(self, what: str) -> str:
        prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "burnqed")
        return f"{prefix}:{self.kind}:{self.key}:{what}"


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def last_seq(channel: JobChannel) -> int:
    value = redis_client().get(channel.redis_key("seq"))
    return int(value) if value else 0


FRAME_TYPE = "job.frame"  # the channel-layer message type of a frame, handled by JobFramesConsumer.job_frame()


def send_frame(channel: JobChannel, kind: str, payload: dict) -> None:
    """Number and send one frame to everyone watching the job, once the current transaction commits (at
    once outside a transaction): a browser never hears of a row it cannot read yet."""
    transaction.on_commit(lambda: _send_now(channel, kind, payload))


# Seq keys of the jobs whose last frame from this process was lost before it got its number.
_lost_unnumbered: set[str] = set()


def _send_now(channel: JobChannel, kind: str, payload: dict) -> int | None:
    """Number and send one frame; the number it got, or None when Redis could not be reached."""
    key = channel.redis_key("seq")
    try:
        seq = int(redis_client().incr(key, 2 if key in _lost_unnumbered else 1))
    except (redis.RedisError, OSError) as exc:
        _lost_unnumbered.add(key)
        log.warning("frame %r of %s not sent (%s): the browser re-syncs at the next one", kind, channel.group, exc)
        return None
    _lost_unnumbered.discard(key)
    frame = {"type": FRAME_TYPE, "seq": seq, "kind": kind, "payload": payload}
    try:
        async_to_sync(get_channel_layer().group_send)(channel.group, frame)
    except (redis.RedisError, OSError) as exc:  # numbered, so the next frame shows the gap
        log.warning("frame %s of %s not sent (%s)", seq, channel.group, exc)
    return seq


def request_cancel(channel: JobChannel) -> None:
    """Raise the flag that every worker of the job polls between steps (expires after a week)."""
    redis_client().set(channel.redis_key("cancel"), "1", ex=7 * 24 * 3600)


def cancel_requested(channel: JobChannel) -> bool:
    return bool(redis_client().exists(channel.redis_key("cancel")))
