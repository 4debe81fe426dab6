"""Redis killed (SIGKILL) mid-run and started again on the same port: the Celery worker reconnects and finishes
the run and a later one, websocket clients reconnect and get frames again, and a client that follows the frames
as the run page does (re-syncing from the API on connect and on a gap in the sequence numbers) ends with exactly
the database's tree: no frame was lost without a gap it could see.

Real parts only, on a Redis of this test's own (the machine's Redis is shared): redis-server started as the
embedded one is, a Celery worker process, daphne, the scripted policy server, minilean, an aiohttp websocket
client speaking to daphne as the browser does.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import aiohttp
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from burnqed_web import embedded_redis
from jobs import live
from prover.models import ProofNode, Run, TheoremResult
from prover.services import import_dataset
from tests.conftest import ROOT, child_env, start_worker
from tests.faults.processes import alive, free_port
from tests.web.test_run_lifecycle import start_policy

pytestmark = pytest.mark.django_db(transaction=True)

FINAL = ("succeeded", "failed", "cancelled")
TRUE, FALSE = 4, 2  # theorems the scripted policy proves, and claims no tactic can prove
THEOREMS = "\n".join(
    [f'{{"name": "inc_{i}", "formal_statement": "theorem inc_{i} (x : ℝ) (h : x = {i}) : x + 1 = {i + 1} := by"}}'
     for i in range(TRUE)]
    + [f'{{"name": "wrong_{i}", "formal_statement": "theorem wrong_{i} (x : ℝ) (h : x = {i}) : x = {i + 1} := by"}}'
       for i in range(FALSE)])


def run_config(policy_url: str, **extra) -> dict:
    return {"dataset": "redis-restart", "policy_url": policy_url, "chunk_size": 2,
            "search": {"strategy": "best_first", "num_candidates": 2, "max_nodes": 6, "timeout_s": 60}, **extra}


class PrivateRedis:
    """A redis-server on a free port, started exactly as the embedded one is, that the test can kill and restart."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.url = f"redis://127.0.0.1:{free_port()}/0"
        self.process = self.start()

    def start(self) -> subprocess.Popen:
        process = embedded_redis.start(self.url, self.folder)
        assert process is not None, f"something already answers at {self.url}"
        return process

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        assert not embedded_redis.is_answering(self.url)


def wait_for_port(port: int, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"daphne did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture
def stack(tmp_path, researcher):
    """Private Redis, one Celery worker and daphne on it; the scripted policy server. Everything is stopped after."""
    processes: list[subprocess.Popen] = []
    redis = PrivateRedis(tmp_path / "redis")
    policy = None
    try:
        policy, policy_url = start_policy("intros", "linarith", delay=0.1)
        worker_log = tmp_path / "worker.log"
        processes.append(start_worker("redis-restart", worker_log, REDIS_URL=redis.url))
        port, daphne_log = free_port(), tmp_path / "daphne.log"
        with open(daphne_log, "w") as out:
            daphne = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "burnqed_web.asgi:application"],
                cwd=ROOT, env=child_env(REDIS_URL=redis.url), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        processes.append(daphne)
        wait_for_port(port, daphne, daphne_log)
        browser = Client()
        browser.force_login(researcher)
        yield {"redis": redis, "policy_url": policy_url, "base": f"http://127.0.0.1:{port}",
               "token": Token.objects.create(user=researcher).key,
               "cookie": browser.cookies[settings.SESSION_COOKIE_NAME].value,
               "logs": {"worker": worker_log, "daphne": daphne_log}}
    finally:
        if policy is not None:
            policy.kill()
            policy.wait()
            processes.append(policy)
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # each leads its own process group
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if redis.process.poll() is None:
            os.killpg(redis.process.pid, signal.SIGKILL)
            redis.process.wait()
    assert not [p.pid for p in [*processes, redis.process] if alive(p.pid)]


class RunPage:
    """What static/js/run_live.js does with a run, in Python: follow the numbered frames; re-sync everything from
    the API on every hello and whenever a frame's number is not the one expected; reconnect when the socket
    closes. What it knows is only what it heard and read."""

    def __init__(self, session: aiohttp.ClientSession, base: str, run_id: int, theorem_ids: list[int]) -> None:
        self.session, self.base, self.run_id = session, base, run_id
        self.nodes: dict[int, set[int]] = {t: set() for t in theorem_ids}
        self.finished: set[int] = set()
        self.status = "queued"
        self.expected: int | None = None
        self.connections: list[dict] = []  # per websocket: when it opened, its hello, the frames' numbers
        self.gaps: list[tuple[int, int]] = []  # (expected, received)
        self.resyncs = 0

    async def get(self, path: str) -> dict:
        async with self.session.get(self.base + path, headers={"Accept": "application/json"}) as response:
            assert response.status == 200, (path, response.status, await response.text())
            return await response.json()

    async def resync(self) -> None:
        self.resyncs += 1
        self.status = (await self.get(f"/api/runs/{self.run_id}/"))["status"]
        page = await self.get(f"/api/results/?run={self.run_id}&page_size=1000")
        self.finished |= {r["theorem"] for r in page["results"] if r["status"] not in ("pending", "running")}
        for theorem_id in self.nodes:
            url = f"/api/runs/{self.run_id}/tree/?theorem={theorem_id}&depth=50&page_size=2000"
            while url:
                page = await self.get(url.removeprefix(self.base))
                self.nodes[theorem_id] |= {n["node_id"] for n in page["results"]}
                url = page["next"]

    def apply(self, frame: dict) -> None:
        if frame["kind"] == "run":
            self.status = frame["payload"]["status"]
        for event in frame["payload"].get("events", []):
            if event["type"] == "node_added":
                self.nodes[event["theorem_id"]].add(event["node_id"])
            elif event["type"] == "theorem_finished":
                self.finished.add(event["theorem_id"])

    async def follow(self, timeout_s: float) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                while self.status not in FINAL:
                    try:
                        await self._one_connection()
                    except (aiohttp.ClientError, ConnectionError):
                        pass  # refused while Redis is down: the page tries again
                    if self.status not in FINAL:
                        await asyncio.sleep(0.5)
        except TimeoutError:
            raise AssertionError(f"the run page still shows {self.status} after {timeout_s} s: "
                                 f"{self.connections}, gaps {self.gaps}") from None

    async def _one_connection(self) -> None:
        async with self.session.ws_connect(f"{self.base}/ws/runs/{self.run_id}/",
                                           headers={"Origin": self.base}) as ws:
            first = await ws.receive()
            if first.type != aiohttp.WSMsgType.TEXT:
                return  # closed at once: Redis went away while the consumer joined its group
            hello = first.json()
            assert hello["type"] == "hello", hello
            connection = {"opened": time.monotonic(), "hello": hello["last_seq"], "seqs": []}
            self.connections.append(connection)
            self.expected = hello["last_seq"] + 1
            await self.resync()  # what was sent before we connected is in the database
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                frame = message.json()
                if frame["type"] != "frame":
                    continue
                connection["seqs"].append(frame["seq"])
                if frame["seq"] != self.expected:
                    self.gaps.append((self.expected, frame["seq"]))
                    self.expected = frame["seq"] + 1
                    await self.resync()
                else:
                    self.expected = frame["seq"] + 1
                    self.apply(frame)
                if self.status in FINAL:
                    return


async def launch(session: aiohttp.ClientSession, stack: dict, config: dict) -> int:
    async with session.post(f"{stack['base']}/api/runs/", json={"name": "redis restart", "config": config},
                            headers={"Authorization": f"Token {stack['token']}"}) as response:
        body = await response.json()
        assert response.status == 201, body
        return body["id"]


async def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        await asyncio.sleep(0.05)


def test_redis_restarted_mid_run(stack):
    dataset = import_dataset(name="redis-restart", text=THEOREMS, format="lean-workbook").dataset
    theorem_ids = sorted(dataset.theorems.values_list("pk", flat=True))
    assert len(theorem_ids) == TRUE + FALSE
    redis = stack["redis"]
    outage: dict[str, float] = {}

    async def scenario():
        async with aiohttp.ClientSession(cookies={settings.SESSION_COOKIE_NAME: stack["cookie"]}) as session:
            run_id = await launch(session, stack, run_config(stack["policy_url"]))
            page = RunPage(session, stack["base"], run_id, theorem_ids)
            following = asyncio.create_task(page.follow(timeout_s=50))

            async def theorems_done() -> int:
                return (await page.get(f"/api/runs/{run_id}/"))["theorems_done"]

            async def under_way() -> bool:
                assert not following.done(), following.result()
                return bool(page.connections and page.connections[0]["seqs"]) and 2 <= await theorems_done()
            await wait_until(under_way, 40, "the run did not get under way")
            outage["done_at_kill"] = await theorems_done()
            outage["killed"] = time.monotonic()
            await asyncio.to_thread(redis.kill)
            await asyncio.sleep(1.5)
            redis.process = await asyncio.to_thread(redis.start)
            outage["back"] = time.monotonic()
            await following

            # The worker reconnected to the broker: it takes a job launched after the restart.
            later_id = await launch(session, stack, run_config(stack["policy_url"], theorems=["inc_0", "wrong_0"]))
            later = RunPage(session, stack["base"], later_id, theorem_ids)
            await later.follow(timeout_s=30)
            return page, later

    try:
        page, later = asyncio.run(scenario())
    except BaseException:
        print({name: path.read_text()[-6000:] for name, path in stack["logs"].items()})
        raise
    run = Run.objects.get(pk=page.run_id)
    logs = {name: path.read_text()[-4000:] for name, path in stack["logs"].items()}

    # The run finished on its own, with every theorem's verdict, each recorded once.
    assert run.status == "succeeded", (run.status, run.error, logs)
    assert outage["done_at_kill"] < TRUE + FALSE, "Redis must die while the run still has theorems to search"
    results = TheoremResult.objects.filter(run=run)
    assert results.count() == TRUE + FALSE
    assert sorted(results.values_list("status", flat=True)) == sorted(["proved"] * TRUE + ["failed"] * FALSE), \
        (list(results.values_list("theorem__name", "status", "error")), logs)
    assert (run.theorems_done, run.theorems_proved) == (TRUE + FALSE, TRUE)
    nodes = ProofNode.objects.filter(run=run)
    assert nodes.count() == len(set(nodes.values_list("theorem_id", "node_id")))

    # Websockets: the one open when Redis died closed, and a later one heard frames of the same run again.
    first, *rest = page.connections
    assert first["seqs"], "frames before the restart"
    reconnected = [c for c in rest if c["opened"] > outage["killed"]]
    assert reconnected and any(c["seqs"] for c in reconnected), page.connections
    assert reconnected[0]["hello"] >= max(first["seqs"]), "sequence numbers survive the restart: no restart from 1"

    # No silent gap: what the page heard plus what it re-read when it saw a gap or reconnected is the whole tree.
    in_database: dict[int, set[int]] = {t: set() for t in theorem_ids}
    for theorem_id, node_id in nodes.values_list("theorem_id", "node_id"):
        in_database[theorem_id].add(node_id)
    assert page.nodes == in_database
    assert page.finished == set(results.values_list("theorem_id", flat=True))

    assert later.status == "succeeded" and later.connections and any(c["seqs"] for c in later.connections)
    assert Run.objects.get(pk=later.run_id).theorems_done == 2


def test_a_frame_lost_while_redis_is_down_leaves_a_gap_that_the_browser_sees(tmp_path, settings):
    """The worker cannot number a frame while Redis is away: the job goes on, and the next frame it sends skips a
    number, so a page that stayed connected (or reconnected before the frame would have come) re-syncs."""
    redis = PrivateRedis(tmp_path / "redis")
    try:
        settings.REDIS_URL = redis.url
        layers = {**settings.CHANNEL_LAYERS["default"]}
        layers["CONFIG"] = {**layers["CONFIG"], "hosts": [{**layers["CONFIG"]["hosts"][0], "address": redis.url}]}
        settings.CHANNEL_LAYERS = {"default": layers}
        live.redis_client.cache_clear()
        channel = live.JobChannel(1, uuid.uuid4().hex, "run")
        layer = get_channel_layer()
        page = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(channel.group, page)

        first = live._send_now(channel, "events", {"n": 1})
        redis.kill()
        assert live._send_now(channel, "events", {"n": 2}) is None  # dropped, not raised into the job
        redis.process = redis.start()
        third = live._send_now(channel, "events", {"n": 3})
        assert third == first + 2 == live.last_seq(channel)

        async def heard() -> list[tuple[int, dict]]:
            frames = [await asyncio.wait_for(layer.receive(page), 10) for _ in range(2)]
            return [(f["seq"], f["payload"]) for f in frames]
        assert async_to_sync(heard)() == [(first, {"n": 1}), (first + 2, {"n": 3})]
    finally:
        live.redis_client.cache_clear()
        if redis.process.poll() is None:
            os.killpg(redis.process.pid, signal.SIGKILL)
            redis.process.wait()
