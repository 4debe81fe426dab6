"""Websocket consumers. JobFramesConsumer streams one job's numbered frames (any kind); HealthConsumer is the
service's heartbeat channel: workers and tasks announce themselves on group `health` and every open dashboard
hears it."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import registry
from .live import JobChannel, last_seq
from .roles import can_view

HEALTH_GROUP = "health"


async def _can_view(user) -> bool:
    return await database_sync_to_async(can_view)(user)


class HealthConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await _can_view(user):
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(HEALTH_GROUP, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(HEALTH_GROUP, self.channel_name)

    async def receive_json(self, content: dict, **kwargs) -> None:
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "echo": content.get("echo")})
        else:
            await self.send_json({"type": "error", "message": f"unknown message type {content.get('type')!r}"})

    async def health_event(self, event: dict) -> None:
        """A message sent to group `health` with type `health.event`: forwarded to the browser as is."""
        await self.send_json({"type": "event", "payload": event.get("payload", {})})


class JobFramesConsumer(AsyncJsonWebsocketConsumer):
    """Live frames of one job (group `<kind>.<id>`): numbered batches its workers send after commit.

    Routed as `JobFramesConsumer.as_asgi(job_kind="run")`. On connect the client gets the last sequence number
    already sent, so it knows where the stream starts and what to fetch from the API; every later frame is
    `{"type": "frame", "seq", "kind", "payload"}`.
    """

    def __init__(self, *args, job_kind: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.job_kind = job_kind

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.object_id = int(self.scope["url_route"]["kwargs"]["object_id"])
        if not await _can_view(user):
            await self.close(code=4403)
            return
        model = registry.model_of(self.job_kind)
        found = await model.objects.filter(pk=self.object_id).only("pk", "key").afirst()
        if found is None:
            await self.close(code=4404)
            return
        channel = JobChannel.of(found)
        self.group = channel.group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", self.job_kind: self.object_id,
                              "last_seq": await database_sync_to_async(last_seq)(channel)})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def job_frame(self, event: dict) -> None:
        await self.send_json({"type": "frame", "seq": event["seq"], "kind": event["kind"], "payload": event["payload"]})
