"""The live-run websocket through the real channels_redis layer: who may watch, numbering without gaps, and
re-syncing from the API after a lost frame (rows are committed before their frame is sent)."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from burnqed_web.asgi import application
from jobs import live
from prover.engine.events import NodeAdded
from prover.execution.recording import RunRecorder
from prover.models import Run, Theorem
from prover.services import import_dataset
from tests.web.test_realtime import session_headers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run_and_theorem(db):
    dataset = import_dataset(name="d", text='{"name": "t", "formal_statement": "theorem t : (1 : ℕ) = 1 := by"}',
                             format="lean-workbook").dataset
    return Run.objects.create(name="r", dataset=dataset, status="running"), Theorem.objects.get(name="t")


def node(node_id: int, parent: int | None, seq: int) -> NodeAdded:
    return NodeAdded(theorem_name="t", seq=seq, elapsed_ms=1.0, node_id=node_id, parent_id=parent,
                     kind="root" if parent is None else "state", tactic="" if parent is None else f"tac{node_id}",
                     goal_text=f"⊢ goal {node_id}", num_goals=1, depth=0 if parent is None else 1, log_prob=-0.5,
                     energy=None, status="open", expansion_order=None, lean_ms=1.0, error="", source="policy")


async def watch(user, run) -> WebsocketCommunicator:
    headers = await sync_to_async(session_headers)(user) if user else [(b"origin", b"http://testserver")]
    return WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)


async def test_a_viewer_may_watch_an_anonymous_user_may_not(viewer, run_and_theorem):
    run, _ = run_and_theorem
    anonymous = await watch(None, run)
    connected, code = await anonymous.connect()
    assert not connected and code == 4403
    communicator = await watch(viewer, run)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "hello"
    await communicator.disconnect()
    missing = WebsocketCommunicator(application, "/ws/runs/999999/", headers=await sync_to_async(session_headers)(viewer))
    connected, code = await missing.connect()
    assert not connected and code == 4404


async def test_frames_are_numbered_without_gaps_and_a_gap_is_recovered_from_the_api(viewer, run_and_theorem):
    run, theorem = run_and_theorem
    channel = live.JobChannel.of(run)
    communicator = await watch(viewer, run)
    assert (await communicator.connect())[0]
    hello = await communicator.receive_json_from()
    expected = hello["last_seq"] + 1

    recorder = RunRecorder(channel, {"t": theorem.pk}, interval=0.01)
    recorder(node(0, None, 1))
    await sync_to_async(recorder.close)()
    first = await communicator.receive_json_from(timeout=5)
    assert first["seq"] == expected and first["payload"]["events"][0]["node_id"] == 0

    # A frame lost on the way: its number is used but it never reaches this client.
    await sync_to_async(live.redis_client().incr)(channel.redis_key("seq"))
    recorder = RunRecorder(channel, {"t": theorem.pk}, interval=0.01)
    recorder(node(1, 0, 2))
    recorder(node(2, 0, 3))
    await sync_to_async(recorder.close)()
    after_gap = await communicator.receive_json_from(timeout=5)
    assert after_gap["seq"] == expected + 2, "the client sees the gap"
    await communicator.disconnect()

    # Re-sync: every row was committed before its frame went out, so the API has the whole tree.
    api = APIClient()
    await sync_to_async(api.force_authenticate)(viewer)
    tree = await sync_to_async(api.get)(f"/api/runs/{run.pk}/tree/", {"theorem": theorem.pk, "depth": 5})
    assert [n["node_id"] for n in tree.json()["results"]] == [0, 1, 2]
