"""Training curves on real transports: a loop's metric points become rows and numbered frames on
`training.<id>` that a websocket client receives, the API pages through the curves, the page draws them."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from burnqed_web.asgi import application
from tests.web.test_realtime import session_headers
from training.models import MetricPoint, TrainingRun
from training.recording import MetricRecorder

pytestmark = pytest.mark.django_db(transaction=True)


async def test_metric_points_reach_the_browser_numbered_and_are_stored(viewer):
    run = await TrainingRun.objects.acreate(kind="ebm", name="ebm0", status="running")
    headers = await sync_to_async(session_headers)(viewer)
    communicator = WebsocketCommunicator(application, f"/ws/training/{run.pk}/", headers=headers)
    assert (await communicator.connect())[0]
    hello = await communicator.receive_json_from()
    assert hello["type"] == "hello" and hello["training"] == run.pk

    def log_steps():
        recorder = MetricRecorder(run, interval=0.0)  # one frame per point, to count them
        for step in range(1, 4):
            recorder("train_loss", 2.0 / step, step)
            recorder("temperature", 1.0 + 0.1 * step, step)
        recorder.close()

    await sync_to_async(log_steps)()
    points, seqs = [], []
    while len(points) < 6:
        frame = await communicator.receive_json_from(timeout=5)
        seqs.append(frame["seq"])
        points.extend(frame["payload"]["points"])
    await communicator.disconnect()
    assert seqs == list(range(hello["last_seq"] + 1, hello["last_seq"] + 1 + len(seqs)))
    assert [p["value"] for p in points if p["name"] == "train_loss"] == [2.0, 1.0, 2.0 / 3]
    assert await MetricPoint.objects.filter(training_run=run).acount() == 6
    assert (await TrainingRun.objects.aget(pk=run.pk)).steps_done == 3


async def test_anonymous_users_cannot_watch_training(db):
    run = await TrainingRun.objects.acreate(kind="sft")
    communicator = WebsocketCommunicator(application, f"/ws/training/{run.pk}/", headers=[(b"origin", b"http://testserver")])
    connected, code = await communicator.connect()
    assert not connected and code == 4403


def test_curves_through_the_api_and_the_page(client, viewer):
    run = TrainingRun.objects.create(kind="sft", name="sft0", status="succeeded")
    recorder = MetricRecorder(run, interval=3600)
    for step in range(1, 121):
        recorder("train_loss", 1.0 / step, step)
    recorder.close()
    recorder("val_loss", 0.5, 100)  # a later flush at an earlier step must not move steps_done back
    recorder.close()
    api = APIClient()
    api.force_authenticate(viewer)
    body = api.get(f"/api/training-runs/{run.pk}/metrics/", {"name": "train_loss", "page_size": 100}).json()
    assert body["count"] == 120 and len(body["results"]) == 100 and body["results"][0] == {"name": "train_loss", "step": 1, "value": 1.0}
    assert api.get("/api/training-runs/").json()["results"][0]["steps_done"] == 120
    client.force_login(viewer)
    page = client.get(f"/training/{run.pk}/").content.decode()
    assert "plotly/plotly.min.js" in page and "js/training_live.js" in page and 'id="plot-loss"' in page
    assert 'id="plot-temperature"' not in page  # an SFT run has no EBM temperature
    ebm = TrainingRun.objects.create(kind="ebm", name="ebm0")
    assert 'id="plot-temperature"' in client.get(f"/training/{ebm.pk}/").content.decode()
