"""The embedded SQLite under concurrent writers and readers: `manage.py serve` on the embedded default (DATABASE_URL
and REDIS_URL unset: a SQLite file, the embedded Redis, daphne, a Celery worker of two processes with beat), two
evals streaming at once, and 20 API clients reading runs, trees, theorems and results while some of them launch and
cancel runs and import datasets. No `database is locked` (nor any OperationalError) may reach a process's log, a
task's result, a run's or a theorem's error, or a client: every request gets a 2xx and both evals succeed."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from tests.faults.processes import free_port
from tests.web.test_run_lifecycle import start_policy

ROOT = Path(__file__).resolve().parents[2]
LOCK_ERRORS = re.compile(r"database is locked|database table is locked|OperationalError", re.IGNORECASE)
CLIENTS, WRITERS = 20, 8
THEOREMS = "\n".join(
    [json.dumps({"name": f"p{i}", "formal_statement": f"theorem p{i} (x : ℝ) (h : x = {i}) : x + 1 = {i + 1} := by"})
     for i in range(4)]
    + [json.dumps({"name": f"f{i}", "formal_statement": f"theorem f{i} (x y : ℝ) (h : x = {i}) : x * y = {i + 1} := by"})
       for i in range(2)])


class Clients:
    """Every answer the clients got: a request that did not get a 2xx, or whose body names a lock error, is a
    problem; the counts say the load was real."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.problems: list[str] = []
        self.answers = 0
        self.launched: list[int] = []

    def check(self, method: str, url: str, answer: requests.Response) -> requests.Response:
        with self.lock:
            self.answers += 1
            if not 200 <= answer.status_code < 300 or LOCK_ERRORS.search(answer.text):
                self.problems.append(f"{method} {url} -> {answer.status_code}: {answer.text[:300]}")
        return answer


def session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    return http


def create_user(env: dict, name: str, role: str) -> str:
    made = subprocess.run([sys.executable, "manage.py", "create_role_user", name, "--role", role], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stdout + made.stderr
    return made.stdout.rsplit("API token: ", 1)[1].strip()


def import_dataset(http: requests.Session, base: str, clients: Clients, name: str, text: str) -> int:
    answer = clients.check("POST", "/api/datasets/import/", http.post(
        f"{base}/api/datasets/import/", files={"file": (f"{name}.jsonl", text.encode())},
        data={"name": name, "format": "lean-workbook"}, timeout=60))
    return answer.json()["dataset"]["id"]


def test_two_evals_and_twenty_clients_on_the_embedded_sqlite_meet_no_lock(tmp_path):
    policy, policy_url = start_policy("intros", "linarith", delay=0.02)
    port, redis_port = free_port(), free_port()
    env = {**os.environ, "BURNQED_VAR_DIR": str(tmp_path), "BURNQED_EMBEDDED_REDIS_PORT": str(redis_port),
           "BURNQED_WORKER_CONCURRENCY": "2", "BURNQED_CHANNEL_PREFIX": f"sqlite{os.getpid()}", "PYTHONUNBUFFERED": "1"}
    for name in ("DATABASE_URL", "REDIS_URL"):  # the embedded default: a SQLite file and the embedded Redis
        env.pop(name, None)
    log = tmp_path / "serve.log"
    serve = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-demo", "--port", str(port)], cwd=ROOT, env=env,
                             stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    clients = Clients()
    try:
        deadline = time.monotonic() + 120
        while "burn-qed web is up" not in log.read_text():
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        assert (tmp_path / "burnqed.sqlite3").exists(), "the service must run on the embedded SQLite file"
        base = f"http://127.0.0.1:{port}"
        researcher, viewer = create_user(env, "researcher", "researcher"), create_user(env, "viewer", "viewer")
        writer_http = session(researcher)
        dataset = import_dataset(writer_http, base, clients, "load", THEOREMS)
        theorems = [t["id"] for t in clients.check("GET", "/api/theorems/", writer_http.get(
            f"{base}/api/theorems/?dataset={dataset}&page_size=50", timeout=60)).json()["results"]]
        config = {"dataset": "load", "policy_url": policy_url, "chunk_size": 2,
                  "search": {"strategy": "best_first", "num_candidates": 2, "max_nodes": 8, "timeout_s": 60}}
        evals = [clients.check("POST", "/api/runs/", writer_http.post(
            f"{base}/api/runs/", json={"name": name, "config": config}, timeout=60)).json()["id"]
            for name in ("eval-a", "eval-b")]

        stop = threading.Event()

        def reader(index: int) -> None:
            http = session(viewer if index % 2 else researcher)
            urls = ["/api/runs/", f"/api/theorems/?dataset={dataset}&page_size=50"]
            for run in evals:
                urls += [f"/api/runs/{run}/", f"/api/runs/{run}/tree/?theorem={theorems[index % len(theorems)]}",
                         f"/api/results/?run={run}", f"/api/runs/{run}/metrics/"]
            turn = index
            while not stop.is_set():
                url = urls[turn % len(urls)]
                turn += 1
                clients.check("GET", url, http.get(base + url, timeout=60))

        def writer(index: int) -> None:
            http = session(researcher)
            small = {**config, "theorems": [f"p{index % 4}"]}
            turn = 0
            while not stop.is_set():
                turn += 1
                if turn % 4 == 0:
                    import_dataset(http, base, clients, f"w{index}-{turn}", THEOREMS)
                    continue
                answer = clients.check("POST", "/api/runs/", http.post(
                    f"{base}/api/runs/", json={"name": f"w{index}-{turn}", "config": small}, timeout=60))
                if answer.status_code == 201:
                    run = answer.json()["id"]
                    with clients.lock:
                        clients.launched.append(run)
                    clients.check("POST", f"/api/runs/{run}/cancel/",
                                  http.post(f"{base}/api/runs/{run}/cancel/", timeout=60))

        def client(index: int) -> None:
            try:
                (writer if index < WRITERS else reader)(index)
            except Exception as exc:  # a refused connection, a timeout, an answer that is not what it says
                with clients.lock:
                    clients.problems.append(f"client {index}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 150
        watch = session(viewer)
        while True:
            states = [watch.get(f"{base}/api/runs/{run}/", timeout=60).json() for run in evals]
            if all(state["finished_at"] for state in states) or time.monotonic() > deadline:
                break
            assert serve.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
        assert not clients.problems, f"{len(clients.problems)} of {clients.answers} requests failed: {clients.problems[:10]}"

        assert [state["status"] for state in states] == ["succeeded", "succeeded"], states
        assert all(state["theorems_done"] == 6 and state["theorems_proved"] == 4 for state in states), states
        assert clients.answers > 200 and len(clients.launched) >= WRITERS, (clients.answers, len(clients.launched))
        # The cancelled runs' tasks still reach the worker: let it drain them, then read every task's result.
        runs = wait_all_finished(watch, base, deadline=time.monotonic() + 60)
        for run in runs:
            assert not LOCK_ERRORS.search(run["error"] or ""), run
        for run in evals:
            results = watch.get(f"{base}/api/results/?run={run}&page_size=100", timeout=60).json()["results"]
            assert len(results) == 6 and not [r for r in results if LOCK_ERRORS.search(r["error"] or "")], results
        task_results = celery_results(redis_port)
        assert len(task_results) >= 2 * 3, "every chunk of both evals leaves a task result"
        failures = [r for r in task_results if r.get("status") != "SUCCESS" or LOCK_ERRORS.search(json.dumps(r))]
        assert not failures, failures[:5]
    finally:
        before_stop = log.read_text(errors="replace")
        stop_serve(serve)
        policy.kill()
        policy.wait()
    text = log.read_text(errors="replace")
    locked = [line for line in text.splitlines() if LOCK_ERRORS.search(line)]
    assert not locked, f"{len(locked)} lock errors in the log of serve and its children: {locked[:10]}"
    # Stopping serve may interrupt a task (a worker lost at shutdown): only what happened under load must be clean.
    assert "Traceback" not in before_stop, before_stop[before_stop.index("Traceback"):][:3000]


def wait_all_finished(http: requests.Session, base: str, *, deadline: float) -> list[dict]:
    while True:
        runs = http.get(f"{base}/api/runs/?page_size=2000", timeout=60).json()["results"]
        if all(run["finished_at"] for run in runs) or time.monotonic() > deadline:
            assert all(run["finished_at"] for run in runs), [r for r in runs if not r["finished_at"]]
            return runs
        time.sleep(0.5)


def celery_results(redis_port: int) -> list[dict]:
    import redis

    store = redis.Redis(host="127.0.0.1", port=redis_port)
    return [json.loads(store.get(key)) for key in store.scan_iter("celery-task-meta-*")]


def stop_serve(serve: subprocess.Popen) -> None:
    """SIGTERM to serve alone: it stops each child's process group (tests/faults/test_serve_signals.py)."""
    if serve.poll() is None:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
