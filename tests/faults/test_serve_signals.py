"""A process manager signals `manage.py serve` alone (not its process group): every child it started must stop
with it — the embedded Redis, daphne, the Celery worker and its pool and beat processes — even while the worker
is busy with the demo eval (a warm shutdown would wait for the task; serve must not wait forever, nor orphan
the pool)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.processes import alive, command_line, descendants, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slow_policy():
    """A scripted policy (SGLang's /generate) so slow that the demo eval is still running when serve is signalled."""
    policy = subprocess.Popen([sys.executable, str(ROOT / "tests/web/policy_server.py"), "--tactic", "nlinarith",
                               "--delay", "2"], stdout=subprocess.PIPE, text=True)
    line = policy.stdout.readline()
    assert line.startswith("PORT"), line
    yield f"http://127.0.0.1:{line.split()[1]}"
    policy.kill()
    policy.wait()


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signals,start", [([signal.SIGINT], None), ([signal.SIGTERM], None),
                                           ([signal.SIGTERM, signal.SIGINT, signal.SIGTERM], None),
                                           ([signal.SIGINT], ignore_sigint)],
                         ids=["SIGINT", "SIGTERM", "impatient", "SIGINT-started-in-background"])
def test_a_signal_to_serve_alone_stops_every_child(tmp_path, signals, start, slow_policy):
    """`impatient`: a process manager that repeats itself must not interrupt the cleanup half-way.
    `SIGINT-started-in-background`: a shell script's `serve &` (or nohup) hands serve SIGINT ignored."""
    port, redis_port = free_port(), free_port()
    env = {**os.environ, "BURNQED_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
           "BURNQED_EMBEDDED_REDIS_PORT": str(redis_port), "PYTHONUNBUFFERED": "1",
           "BURNQED_POLICY_URL": slow_policy}
    env.pop("REDIS_URL", None)  # the embedded Redis, started by serve
    log = tmp_path / "serve.log"
    # Its own session: the signal below reaches serve only, as from a process manager, not a terminal's Ctrl-C.
    serve = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT,
                             env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=start)
    try:
        deadline = time.monotonic() + 180
        while " received" not in log.read_text():  # celery: the demo's first chunk reached the worker
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        # The worker forks its pool and beat a moment after it starts: wait until they are there too.
        while len(started := descendants(serve.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.3)
        names = " | ".join(command_line(pid) for pid in started)
        assert "redis-server" in names and "daphne" in names and "celery" in names, names

        for signum in signals:
            os.kill(serve.pid, signum)
            time.sleep(0.3)
        assert serve.wait(timeout=60) == 0, log.read_text()[-3000:]
        deadline = time.monotonic() + 30
        while (left := {pid for pid in started if alive(pid)}) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, "outlived serve: " + " | ".join(command_line(pid) for pid in left)
    finally:
        for pid in [serve.pid, *descendants(serve.pid)]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        serve.wait()
