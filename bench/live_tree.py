"""Live proof trees: latency from an engine event to the websocket frame at a browser-side client, and the time
the run page takes to render a finished 5,000-node tree in headless Chromium.

    python bench/live_tree.py [--seconds 10] [--rate 200] [--nodes 5000]

Latency path: a synthetic engine thread emits NodeAdded events at `--rate` nodes/s into the real RunRecorder
(batched rows in the database, then a numbered frame on channels_redis), a real daphne server, and a websocket
client (aiohttp) logged in with a session cookie. Baseline, same run: a bare channel-layer group_send to the same
client through the same daphne and Redis, with no recorder or database in between.

Render: a finished run with `--nodes` nodes is written to the database; Chromium opens its run page and we read
when the tree has been fetched from the API and drawn. Baseline, same run: the home page's load time.

Uses a scratch SQLite database and REDIS_URL (or the embedded Redis).
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._measure import free_port, percentile  # noqa: E402

SCRATCH = tempfile.mkdtemp(prefix="burnqed-bench-")
os.environ.setdefault("BURNQED_VAR_DIR", SCRATCH)
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")
# A channel-layer prefix of its own, so a long-lived Redis holds no stale group members from other runs.
os.environ["BURNQED_CHANNEL_PREFIX"] = f"bench{os.getpid()}"




def setup():
    import django

    django.setup()
    from django.core.management import call_command

    from burnqed_web import embedded_redis

    embedded_redis.ensure_running_until_exit()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from prover.models import Run
    from prover.services import import_dataset

    user = get_user_model().objects.create_superuser("bench", password="bench-password-1")
    dataset = import_dataset(name="bench", text='{"name": "t", "formal_statement": "theorem t : (1 : ℕ) = 1 := by"}',
                             format="lean-workbook").dataset
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    run = Run.objects.create(name="live", dataset=dataset, status="running", theorems_total=1)
    return user, dataset, cookie, run


def start_daphne(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                             "burnqed_web.asgi:application"], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("daphne did not start")


async def measure_latency(port: int, cookie: str, run, theorem_id: int, seconds: float, rate: float) -> tuple[list, list]:
    import aiohttp
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from jobs.live import FRAME_TYPE, JobChannel
    from prover.engine.events import NodeAdded
    from prover.execution.recording import RunRecorder

    channel = JobChannel.of(run)
    emitted: dict[int, float] = {}
    latencies, baseline = [], []
    async with aiohttp.ClientSession(cookies={"sessionid": cookie}) as session:
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws/runs/{run.pk}/", headers={"Origin": f"http://127.0.0.1:{port}"}) as ws:
            await ws.receive_json()  # hello

            # Baseline: bare group_send of a small frame, one every 1/rate s, no recorder, no database.
            layer = get_channel_layer()
            for i in range(int(rate * 2)):
                sent = time.perf_counter()
                await layer.group_send(channel.group, {"type": FRAME_TYPE, "seq": -1, "kind": "ping", "payload": {"i": i}})
                await ws.receive_json()
                baseline.append(time.perf_counter() - sent)
                await asyncio.sleep(1 / rate)

            recorder = RunRecorder(channel, {"t": theorem_id})
            total = int(seconds * rate)

            def engine() -> None:
                start = time.perf_counter()
                for k in range(total):
                    target = start + k / rate
                    while time.perf_counter() < target:
                        time.sleep(0.0005)
                    emitted[k] = time.perf_counter()
                    recorder(NodeAdded(theorem_name="t", seq=k, elapsed_ms=0.0, node_id=k, parent_id=None if k == 0 else (k - 1) // 4,
                                       kind="root" if k == 0 else "state", tactic=f"tactic {k}", goal_text=f"x : ℝ\n⊢ goal {k}",
                                       num_goals=1, depth=0, log_prob=-1.0, energy=None, status="open", expansion_order=None,
                                       lean_ms=1.0, error="", source="policy"))

            thread = threading.Thread(target=engine)
            thread.start()
            received = 0
            while received < total:
                frame = await ws.receive_json(timeout=30)
                now = time.perf_counter()
                for event in frame["payload"].get("events", []):
                    latencies.append(now - emitted[event["node_id"]])
                    received += 1
            thread.join()
            await sync_to_async(recorder.close)()
    return latencies, baseline


def make_finished_tree(dataset, nodes: int):
    from jobs.bulk import insert_rows
    from prover.execution.recording import NODE_COLUMNS
    from prover.models import Run, Theorem, TheoremResult

    theorem = Theorem.objects.get(dataset=dataset, name="t")
    run = Run.objects.create(name="big", dataset=dataset, status="succeeded", theorems_total=1, theorems_done=1,
                             config={"search": {"strategy": "best_first"}, "lean": "minilean"})
    TheoremResult.objects.create(run=run, theorem=theorem, status="failed", failure_reason="budget_exhausted",
                                 nodes_expanded=nodes // 4)
    rows = [(run.pk, theorem.pk, k, None if k == 0 else (k - 1) // 4, f"tactic {k}", f"x : ℝ\nh : x > {k}\n⊢ goal {k}", "",
             0, -1.0, 0.5, "open" if k % 3 else "failed", False, k if k < nodes // 4 else None, 0, 1.0, 0.0,
             "", "state", 1, "policy", "2026-01-01T00:00:00Z") for k in range(nodes)]
    insert_rows("prover_proofnode", NODE_COLUMNS, rows)
    return run, theorem


def measure_render(port: int, cookie: str, run, theorem, repeat: int = 3) -> tuple[list, list]:
    from playwright.sync_api import sync_playwright

    renders, homes, fetches = [], [], []
    expected_nodes = run.nodes.count()  # before Playwright's event loop makes this thread async for Django
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("BURNQED_CHROMIUM", "/usr/bin/chromium"), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context()
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": f"http://127.0.0.1:{port}"}])
        page = context.new_page()
        for _ in range(repeat):
            page.goto(f"http://127.0.0.1:{port}/")
            homes.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000)
            page.goto(f"http://127.0.0.1:{port}/runs/{run.pk}/#theorem-{theorem.pk}")
            page.wait_for_function("window.burnqedLive && window.burnqedLive.treeLoadedAt", timeout=60_000)
            assert page.evaluate("window.burnqedLive.treeNodes") == expected_nodes
            renders.append(page.evaluate("window.burnqedLive.treeLoadedAt") / 1000)
            fetches.append(page.evaluate("window.burnqedLive.treeFetchMs") / 1000)
        browser.close()
    return renders, homes, fetches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--nodes", type=int, default=5000)
    args = parser.parse_args()
    from _machine import machine_line

    print(machine_line())
    user, dataset, cookie, run = setup()
    from prover.models import Theorem

    theorem_id = Theorem.objects.get(dataset=dataset, name="t").pk
    port = free_port()
    daphne = start_daphne(port)
    try:  # from here on, so that a SIGTERM while daphne starts up still stops it
        wait_for_port(port, daphne)
        latencies, baseline = asyncio.run(measure_latency(port, cookie, run, theorem_id, args.seconds, args.rate))
        ms = [x * 1000 for x in latencies]
        base = [x * 1000 for x in baseline]
        print(f"live: {len(ms)} nodes at {args.rate:.0f} nodes/s for {args.seconds:.0f} s, event -> websocket frame at the client")
        print(f"  recorder path   p50 {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms   (target p95 < 250 ms)")
        print(f"  bare group_send p50 {statistics.median(base):7.1f} ms   p95 {percentile(base, 0.95):7.1f} ms   (baseline)")
        print(f"  ratio p50 {statistics.median(ms) / statistics.median(base):.1f}x the bare channel layer "
              f"(the recorder batches for up to 100 ms on purpose)")
        big, theorem = make_finished_tree(dataset, args.nodes)
        renders, homes, fetches = measure_render(port, cookie, big, theorem)
        print(f"render: run page with a finished {args.nodes}-node tree in headless Chromium (best of {len(renders)})")
        print(f"  tree fetched and drawn {min(renders) * 1000:7.0f} ms after navigation start   (target < 1500 ms)")
        print(f"    of which API fetch   {min(fetches) * 1000:7.0f} ms")
        print(f"  home page load         {min(homes) * 1000:7.0f} ms   (baseline)   ratio {min(renders) / min(homes):.1f}x")
    finally:
        daphne.terminate()
        daphne.wait()


if __name__ == "__main__":
    main()
