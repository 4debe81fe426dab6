"""API latency and websocket delivery under load: 50 concurrent API clients reading runs, trees and theorems while
two evals stream live, against the same clients on an idle service in the same run.

    python bench/load.py [--clients 50] [--idle-seconds 15] [--load-seconds 40]

Everything on loopback, on the embedded default (a scratch SQLite file, REDIS_URL or the embedded Redis): a
daphne server, one Celery worker (two processes, so both evals search at once), minilean, and a scripted policy
server speaking SGLang's /generate. Bounded: about idle + load + 20 s of start-up and cancellation. Prints p50 and
p95 latency and throughput idle and under load (the ratio), websocket frames received and lost (a gap in the
sequence numbers), and how many `database is locked` lines the server and worker logs hold (should be 0).
"""

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._measure import free_port, percentile  # noqa: E402

SCRATCH = Path(tempfile.mkdtemp(prefix="burnqed-load-"))
os.environ.setdefault("BURNQED_VAR_DIR", str(SCRATCH))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}/load.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")
os.environ["BURNQED_CHANNEL_PREFIX"] = f"load{os.getpid()}"  # no stale group members from other runs
os.environ["PYTHONUNBUFFERED"] = "1"





def start_daphne(port: int, log: Path) -> subprocess.Popen:
    import socket

    process = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "burnqed_web.asgi:application"], cwd=ROOT, env=dict(os.environ),
                               stdout=open(log, "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    raise SystemExit("daphne did not start")


THEOREMS = [f'{{"name": "p{i}", "formal_statement": "theorem p{i} (x : ℝ) (h : x = {i}) : x + 1 = {i + 1} := by"}}'
            for i in range(20)] + [
            f'{{"name": "f{i}", "formal_statement": "theorem f{i} (x y : ℝ) (h : x = {i}) : x * y = {i + 1} := by"}}'
            for i in range(20)]


def setup() -> tuple[str, str, int]:
    import django

    django.setup()
    from django.core.management import call_command

    from burnqed_web import embedded_redis

    embedded_redis.ensure_running_until_exit()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from prover.models import Run, TheoremResult
    from prover.services import import_dataset

    user = get_user_model().objects.create_superuser("load", password="load-password-1")
    dataset = import_dataset(name="load", text="\n".join(THEOREMS), format="lean-workbook").dataset
    # What the idle phase reads: a finished run of the same size as the live ones.
    idle = Run.objects.create(name="idle", dataset=dataset, status="succeeded", theorems_total=len(THEOREMS))
    TheoremResult.objects.bulk_create([TheoremResult(run=idle, theorem=t, status="failed") for t in dataset.theorems.all()])
    client = Client()
    client.force_login(user)
    return Token.objects.create(user=user).key, client.cookies["sessionid"].value, idle.pk


def start_policy(delay: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(ROOT / "tests/web/policy_server.py"), "--delay", str(delay),
                                "--tactic", "intros", "--tactic", "nlinarith", "--tactic", "norm_num",
                                "--tactic", "linarith"], stdout=subprocess.PIPE, text=True)
    return process, f"http://127.0.0.1:{process.stdout.readline().split()[1]}"


def start_worker(log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "burnqed_web", "worker", "-Q", "gpu,cpu,default",
                             "--concurrency", "2", "--loglevel", "INFO", "--hostname", f"load{os.getpid()}@%h"],
                            cwd=ROOT, env=dict(os.environ), stdout=open(log, "w"), stderr=subprocess.STDOUT)


async def hammer(base: str, token: str, urls: list[str], clients: int, seconds: float) -> tuple[list[float], int]:
    """`clients` clients, each reading the next URL as soon as its last answer came, for `seconds`."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(start: int) -> None:
        nonlocal errors
        async with aiohttp.ClientSession(headers={"Authorization": f"Token {token}"}) as session:
            for url in itertools.islice(itertools.cycle(urls), start, None):
                if time.monotonic() >= stop:
                    return
                sent = time.perf_counter()
                async with session.get(base + url) as answer:
                    await answer.read()
                    errors += answer.status != 200
                latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies, errors


async def watch(base: str, cookie: str, run_id: int, done: asyncio.Event) -> tuple[int, int, int]:
    """Frames of one run's websocket: (received, lost, out of order). Lost: a sequence number never received
    between the hello's and the last one; two chunks' workers may send at once, so order alone is no loss."""
    import aiohttp

    seen: list[int] = []
    async with aiohttp.ClientSession(cookies={"sessionid": cookie}) as session:
        async with session.ws_connect(f"{base}/ws/runs/{run_id}/", headers={"Origin": base}) as ws:
            first = (await ws.receive_json())["last_seq"] + 1
            while True:
                try:
                    frame = await ws.receive_json(timeout=1.0 if done.is_set() else 60.0)
                except (TimeoutError, TypeError):
                    if done.is_set():
                        break
                    continue
                seen.append(frame["seq"])
                if frame["kind"] == "run":
                    break
    # A frame numbered before the hello but delivered after it is one the API read already covers.
    expected = set(range(first, max(seen, default=first - 1) + 1))
    out_of_order = sum(b < a for a, b in zip(seen, seen[1:], strict=False))
    return len(seen), len(expected - set(seen)), out_of_order


def summary(label: str, latencies: list[float], errors: int, seconds: float) -> float:
    ms = [x * 1000 for x in latencies]
    rate = len(ms) / seconds
    print(f"  {label:<24} p50 {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms   "
          f"{rate:7.1f} req/s   non-200 {errors}")
    return rate


async def measure(args, port: int, token: str, cookie: str, idle_run: int, policy_url: str) -> None:
    import aiohttp

    from prover.models import Theorem

    base = f"http://127.0.0.1:{port}"
    theorem = await Theorem.objects.filter(name="p0").values_list("pk", flat=True).afirst()

    def reads(run_id: int) -> list[str]:
        return ["/api/runs/", f"/api/runs/{run_id}/", f"/api/runs/{run_id}/tree/?theorem={theorem}",
                "/api/theorems/?page_size=50", f"/api/results/?run={run_id}"]

    idle, idle_errors = await hammer(base, token, reads(idle_run), args.clients, args.idle_seconds)
    config = {"dataset": "load", "policy_url": policy_url, "chunk_size": 5,
              "search": {"strategy": "best_first", "num_candidates": 4, "max_nodes": 200, "timeout_s": 300}}
    headers = {"Authorization": f"Token {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        runs = []
        for name in ("live-a", "live-b"):
            async with session.post(f"{base}/api/runs/", json={"name": name, "config": config}) as answer:
                assert answer.status == 201, await answer.text()
                runs.append((await answer.json())["id"])
    done = asyncio.Event()
    watchers = [asyncio.create_task(watch(base, cookie, run_id, done)) for run_id in runs]
    loaded, load_errors = await hammer(base, token, reads(runs[0]) + reads(runs[1]), args.clients, args.load_seconds)
    async with aiohttp.ClientSession(headers=headers) as session:
        for run_id in runs:  # bounded: whatever is left of the evals is cancelled, its last frames still counted
            async with session.post(f"{base}/api/runs/{run_id}/cancel/") as answer:
                await answer.read()
    await asyncio.sleep(5)
    done.set()
    frames = await asyncio.gather(*watchers)

    print(f"API: {args.clients} concurrent clients reading runs, run detail, a tree, theorems and results")
    idle_rate = summary(f"idle ({args.idle_seconds:.0f} s)", idle, idle_errors, args.idle_seconds)
    load_rate = summary(f"two live evals ({args.load_seconds:.0f} s)", loaded, load_errors, args.load_seconds)
    print(f"  throughput under load / idle: {load_rate / idle_rate:.2f}   "
          f"p50 ratio {statistics.median(loaded) / statistics.median(idle):.2f}x")
    print(f"websocket: {sum(f[0] for f in frames)} frames received over {len(runs)} runs, "
          f"{sum(f[1] for f in frames)} lost (sequence numbers never received), {sum(f[2] for f in frames)} out of order")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=15)
    parser.add_argument("--load-seconds", type=float, default=40)
    parser.add_argument("--policy-delay", type=float, default=0.05, help="seconds per /generate of the scripted policy")
    args = parser.parse_args()
    from _machine import machine_line

    print(machine_line())
    token, cookie, idle_run = setup()
    import torch

    print(f"torch CPU capability: {torch.backends.cpu.get_cpu_capability()}")
    policy, policy_url = start_policy(args.policy_delay)
    worker = start_worker(SCRATCH / "worker.log")
    port = free_port()
    daphne_log = SCRATCH / "daphne.log"
    daphne = start_daphne(port, log=daphne_log)
    try:
        asyncio.run(measure(args, port, token, cookie, idle_run, policy_url))
    finally:
        for process in (daphne, worker, policy):
            process.terminate()
        for process in (daphne, worker, policy):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    locked = sum(path.read_text(errors="replace").count("database is locked") for path in (daphne_log, SCRATCH / "worker.log"))
    print(f"'database is locked' in the server and worker logs: {locked}")


if __name__ == "__main__":
    main()
