"""A run from launch to finish on real parts: the launch service, Celery fan-out to a real worker process,
minilean workers, a scripted policy server speaking SGLang's /generate over HTTP, rows in the database, numbered
frames through channels_redis to a websocket client, the merged trajectory file, and cancellation."""

import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from burnqed_web.asgi import application
from prover.execution.trajectories import run_trajectory_path
from prover.models import ProofNode, Run, TheoremResult
from prover.services import ServiceError, cancel_run, import_dataset, launch_run
from tests.web.test_realtime import session_headers

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

EASY = "\n".join([
    '{"name": "add_one", "formal_statement": "theorem add_one (x : ℝ) (h : x = 2) : x + 1 = 3 := by"}',
    '{"name": "double", "formal_statement": "theorem double (a b : ℝ) (h₀ : a = 3) (h₁ : b = 2 * a) : b = 6 := by"}',
    '{"name": "false_claim", "formal_statement": "theorem false_claim (x : ℝ) (h : x = 2) : x = 3 := by"}',
])


def start_policy(*tactics: str, delay: float = 0.0, port: int = 0) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, str(ROOT / "tests/web/policy_server.py"), "--delay", str(delay), "--port", str(port)]
    for tactic in tactics:
        args += ["--tactic", tactic]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("PORT"), line
    return process, f"http://127.0.0.1:{line.split()[1]}"


@pytest.fixture
def policy_server():
    process, url = start_policy("intros", "linarith")
    yield url
    process.kill()
    process.wait()


@pytest.fixture
def slow_policy_server():
    process, url = start_policy("nlinarith", delay=0.5)
    yield url
    process.kill()
    process.wait()


def wait_finished(run: Run, timeout_s: float = 180) -> Run:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {timeout_s} s")


def config(policy_url: str, **search) -> dict:
    return {
        "dataset": "easy", "policy_url": policy_url, "chunk_size": 2,
        "search": {"strategy": "best_first", "num_candidates": 2, "max_nodes": 6, "timeout_s": 60, **search},
    }


def test_launch_validates_every_field_at_once(researcher, viewer):
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config={
            "dataset": "easy", "theorems": ["add_one", "nope"], "policy_url": "ftp://x",
            "search": {"strategy": "best_first", "max_depth": 0}, "chunk_size": 0, "colour": "red",
        })
    errors = caught.value.errors
    assert errors["theorems"] == ['not in dataset "easy": nope']
    assert errors["search.max_depth"] == ["must be >= 1"]
    assert "http(s) URL" in errors["policy_url"][0]
    assert "from 1 to" in errors["chunk_size"][0]
    assert "unknown field" in errors["colour"][0]
    with pytest.raises(ServiceError, match="researcher or admin"):
        launch_run(user=viewer, config={"dataset": "easy"})
    assert not Run.objects.exists()


async def test_a_run_proves_what_it_can_and_streams_numbered_frames(researcher, celery_worker_process, policy_server):
    await sync_to_async(import_dataset)(name="easy", text=EASY, format="lean-workbook")
    run = await sync_to_async(launch_run)(user=researcher, config=config(policy_server), name="e2e")
    headers = await sync_to_async(session_headers)(researcher)
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    assert (await communicator.connect())[0]
    hello = await communicator.receive_json_from(timeout=10)
    assert hello["type"] == "hello"
    expected_seq = hello["last_seq"] + 1
    node_events, statuses = 0, []
    while True:
        frame = await communicator.receive_json_from(timeout=120)
        assert frame["seq"] == expected_seq, "frames must arrive numbered without gaps"
        expected_seq += 1
        if frame["kind"] == "events":
            node_events += sum(e["type"] == "node_added" for e in frame["payload"]["events"])
        if frame["kind"] == "run":
            statuses.append(frame["payload"]["status"])
            break
    await communicator.disconnect()
    run = await sync_to_async(wait_finished)(run)

    assert statuses == ["succeeded"] and run.status == "succeeded", run.error
    results = {r.theorem.name: r async for r in TheoremResult.objects.filter(run=run).select_related("theorem")}
    assert results["add_one"].status == "proved" and results["add_one"].proof.strip(), {
        n: (r.status, r.failure_reason, r.error, r.nodes_expanded) for n, r in results.items()}
    assert results["double"].status == "proved"
    assert results["false_claim"].status == "failed" and results["false_claim"].failure_reason != "proved"
    assert run.theorems_done == 3 and run.theorems_proved == 2
    assert run.versions["lean"]["backend"] == "minilean" and run.versions["django"]
    assert run.versions["policy"]["model_path"] == "test/sglang-double"  # what the policy server said it serves
    pool = await sync_to_async(lambda: {m.name.rsplit(".", 1)[1]: m.value for m in run.metrics.filter(name__startswith="pool.")})()
    assert pool["workers"] >= 1 and pool["requests"] > 0 and pool["timeouts"] == 0  # kept after the run ended
    nodes = await sync_to_async(ProofNode.objects.filter(run=run).count)()
    assert nodes == node_events > 3
    root = await ProofNode.objects.aget(run=run, theorem=results["add_one"].theorem, parent_node_id=None)
    assert root.depth == 0 and root.status == "proved"
    table = pq.read_table(run_trajectory_path(run))
    assert set(table.column("theorem_name").to_pylist()) == {"add_one", "double", "false_claim"}
    assert "positive" in table.column("label").to_pylist()


def test_cancel_stops_a_running_run(researcher, celery_worker_process, slow_policy_server):
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    run = launch_run(user=researcher, config=config(slow_policy_server, max_nodes=500, timeout_s=300), name="slow")
    deadline = time.monotonic() + 60
    while not ProofNode.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    cancel_run(user=researcher, run=run)
    run = wait_finished(run, timeout_s=60)
    assert run.status == "cancelled"
    assert not TheoremResult.objects.filter(run=run, status__in=["pending", "running"]).exists()
    with pytest.raises(ServiceError, match="already cancelled"):
        cancel_run(user=researcher, run=run)


def test_a_run_whose_worker_is_killed_ends_failed_not_running(researcher, slow_policy_server, doomed_worker, settings):
    """A second worker takes the run; SIGKILL it mid-search; the reaper fails the silent run."""
    import os
    import signal

    from jobs.reaper import reap_stale_jobs

    import_dataset(name="easy", text=EASY, format="lean-workbook")
    run = launch_run(user=researcher, config=config(slow_policy_server, max_nodes=500, timeout_s=300), name="doomed")
    deadline = time.monotonic() + 90
    while not ProofNode.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, doomed_worker.log_path.read_text()[-2000:]
        time.sleep(0.2)
    os.killpg(doomed_worker.pid, signal.SIGKILL)
    doomed_worker.wait()
    run.refresh_from_db()
    assert run.status == "running"
    settings.BURNQED_JOB_STALE_S = 3600
    assert reap_stale_jobs() == []  # recent heartbeat: not yet
    time.sleep(1.5)
    settings.BURNQED_JOB_STALE_S = 1
    assert reap_stale_jobs() == [("run", run.pk)]
    run.refresh_from_db()
    assert run.status == "failed" and "worker died" in run.error
    assert not TheoremResult.objects.filter(run=run, status__in=["pending", "running"]).exists()
