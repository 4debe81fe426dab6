"""The real transports: a Celery task through the Redis broker to a worker process, and channel-layer messages
through channels_redis to websocket clients authenticated by their session cookie."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from burnqed_web.asgi import application
from burnqed_web.celery import QUEUES, TASK_QUEUES, app, burnqed_task
from burnqed_web.queues import task_rule_violations
from jobs.consumers import HEALTH_GROUP
from jobs.tasks import worker_info

pytestmark = pytest.mark.django_db(transaction=True)


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()), (b"origin", b"http://testserver")]


async def connect(user=None) -> WebsocketCommunicator:
    headers = await sync_to_async(session_headers)(user) if user else [(b"origin", b"http://testserver")]
    return WebsocketCommunicator(application, "/ws/health/", headers=headers)


def test_the_channel_layer_is_redis():
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")


async def test_a_group_message_reaches_a_logged_in_viewer_through_redis(viewer):
    communicator = await connect(viewer)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"type": "hello", "user": "vera"}
    await get_channel_layer().group_send(HEALTH_GROUP, {"type": "health.event", "payload": {"worker": "w1", "gpu": 0}})
    assert await communicator.receive_json_from(timeout=5) == {"type": "event", "payload": {"worker": "w1", "gpu": 0}}
    await communicator.send_json_to({"type": "ping", "echo": 7})
    assert await communicator.receive_json_from() == {"type": "pong", "echo": 7}
    await communicator.disconnect()


async def test_an_idle_websocket_stays_open_and_still_receives(viewer):
    """An open run page may wait minutes for the next frame; the consumer must not time out on its own."""
    import asyncio

    communicator = await connect(viewer)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()  # hello
    await asyncio.sleep(7)  # longer than the 5 s blocking receive of channels_redis and redis-py 8's default read timeout
    await get_channel_layer().group_send(HEALTH_GROUP, {"type": "health.event", "payload": {"after": "idle"}})
    assert await communicator.receive_json_from(timeout=5) == {"type": "event", "payload": {"after": "idle"}}
    await communicator.disconnect()


async def test_anonymous_and_role_less_users_are_refused(no_role_user):
    for user in (None, no_role_user):
        communicator = await connect(user)
        connected, code = await communicator.connect()
        assert not connected and code == 4403


async def test_a_foreign_origin_is_refused(viewer):
    headers = [h for h in await sync_to_async(session_headers)(viewer) if h[0] != b"origin"]
    communicator = WebsocketCommunicator(application, "/ws/health/", headers=[*headers, (b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


def test_every_task_names_itself_and_a_declared_queue():
    assert "burnqed.worker_info" in app.tasks
    assert task_rule_violations(app, QUEUES, TASK_QUEUES) == []
    assert app.amqp.router.route({}, "burnqed.worker_info")["queue"].name == "default"


def test_an_undeclared_queue_is_refused_and_a_task_routed_around_the_rules_is_caught():
    with pytest.raises(ValueError, match="'gpu-fast', which is not one of the declared queues"):
        burnqed_task(name="burnqed.bad", queue="gpu-fast")

    @app.task(name="sneaky_task")
    def sneaky():
        return None

    try:
        problems = task_rule_violations(app, QUEUES, TASK_QUEUES)
    finally:
        del app.tasks["sneaky_task"]
    assert problems == [
        "sneaky_task: task names must be explicit and start with 'burnqed.'",
        "sneaky_task: queue None is not one of the declared queues ('gpu', 'cpu', 'default')",
    ]


async def test_a_task_runs_on_a_real_worker_and_its_announcement_reaches_the_browser(celery_worker_process, viewer):
    import os

    communicator = await connect(viewer)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()  # hello
    result = await sync_to_async(lambda: worker_info.delay("round trip").get(timeout=60))()
    assert result["note"] == "round trip"
    assert result["pid"] == celery_worker_process.pid != os.getpid()
    assert result["versions"]["django"]
    frame = await communicator.receive_json_from(timeout=10)
    assert frame["type"] == "event" and frame["payload"]["pid"] == celery_worker_process.pid
    await communicator.disconnect()
