"""A benchmark that starts the embedded Redis stops it when it ends, even when it is stopped half-way."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from burnqed_web.embedded_redis import is_answering
from tests.faults.processes import alive, command_line, descendants, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_live_tree_bench_leaves_no_redis_behind(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "BURNQED_VAR_DIR": str(tmp_path), "BURNQED_EMBEDDED_REDIS_PORT": str(port)}
    env.pop("REDIS_URL", None)
    bench = subprocess.Popen([sys.executable, "bench/live_tree.py", "--seconds", "60", "--rate", "20", "--nodes", "50"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    redis: list[int] = []
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not is_answering(url):
            assert bench.poll() is None and time.monotonic() < deadline, bench.stdout.read()[-3000:]
            time.sleep(0.1)
        redis += [pid for pid in descendants(bench.pid) if "redis-server" in command_line(pid)]
        assert redis, "the bench should have started the embedded Redis itself"
        time.sleep(2)  # into the measurement: migrations done, daphne starting or streaming
        started = descendants(bench.pid)
        bench.send_signal(signal.SIGTERM)
        bench.wait(timeout=60)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in redis) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in redis) and not is_answering(url), "the embedded Redis outlived the bench"
        left = [command_line(pid) for pid in started if alive(pid)]
        assert not left, f"outlived the bench: {left}"  # daphne too, even when signalled while it starts
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
        for pid in [*redis, *started]:  # a leaked one is an orphan by now, no longer the bench's descendant
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
