"""Websocket consumers. HealthConsumer is the service's heartbeat channel: workers and tasks announce
themselves on group `health` and every open dashboard hears it; it also proves the websocket path end to end."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .roles import can_view

HEALTH_GROUP = "health"


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


async def _can_view(user) -> bool:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(can_view)(user)


class NumberedFramesConsumer(AsyncJsonWebsocketConsumer):
    """Live frames of one object (group `<kind>.<id>`): numbered batches the workers send after commit.

    On connect the client gets the last sequence number already sent, so it knows where the stream starts
    and what to fetch from the API; every later frame is `{"type": "frame", "seq", "kind", "payload"}`.
    Subclasses name the model and the group kind.
    """

    model = None
    kind = "run"

    async def connect(self) -> None:
        from channels.db import database_sync_to_async

        from .live import RunChannel, last_seq

        user = self.scope.get("user")
        self.object_id = int(self.scope["url_route"]["kwargs"]["object_id"])
        if not await _can_view(user):
            await self.close(code=4403)
            return
        found = await self.model.objects.filter(pk=self.object_id).only("pk", "key").afirst()
        if found is None:
            await self.close(code=4404)
            return
        channel = RunChannel.of(found, self.kind)
        self.group = channel.group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", self.kind: self.object_id,
                              "last_seq": await database_sync_to_async(last_seq)(channel)})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_frame(self, event: dict) -> None:
        await self.send_json({"type": "frame", "seq": event["seq"], "kind": event["kind"], "payload": event["payload"]})


class RunConsumer(NumberedFramesConsumer):
    """A search run's live frames: batches of engine events and status changes (group `run.<id>`)."""

    kind = "run"

    @property
    def model(self):
        from .models import Run

        return Run
