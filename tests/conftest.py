"""Shared fixtures: the Redis of the settings (embedded when REDIS_URL is unset), a real Celery worker process,
users of each role. Everything talks to the real PostgreSQL / Redis named in the environment."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")


@pytest.fixture(scope="session", autouse=True)
def redis_for_settings():
    """Start the embedded Redis when the settings use it (REDIS_URL unset), exactly as `manage.py serve` does."""
    from burnqed_web import embedded_redis

    process = embedded_redis.ensure_running_for_settings()
    yield
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def temp_folders_are_a_data_root(tmp_path_factory):
    """Tests build their models and data files under pytest's temporary folder: let launches read from it, as a
    deployment lists its data folders in BURNQED_DATA_ROOTS."""
    from django.conf import settings

    base = tmp_path_factory.getbasetemp()
    if base not in settings.BURNQED_DATA_ROOTS:
        settings.BURNQED_DATA_ROOTS.append(base)
    yield


def database_url_of(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is using now (the test database), for child processes."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process of the service: pointed at the test database."""
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_of(connection.settings_dict)
    env["PYTHONUNBUFFERED"] = "1"
    # Workers check paths against the same data roots as the test process (pytest's temporary folder among them).
    env["BURNQED_DATA_ROOTS"] = ",".join(str(root) for root in settings.BURNQED_DATA_ROOTS)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery worker` subprocess consuming every declared queue, on the test database."""
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with django_db_blocker.unblock():
        env = child_env()
    hostname = f"test-{os.getpid()}@%h"
    from burnqed_web.celery import app

    # The broker may be a long-lived Redis: tasks left by an earlier session must not run against this one.
    app.control.purge()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "burnqed_web", "worker", "-Q", "gpu,cpu,default",
             "--pool", "solo", "--hostname", hostname, "--loglevel", "INFO", "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    from burnqed_web.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"celery worker exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        replies = app.control.ping(timeout=0.5) or []
        names = [name for reply in replies for name in reply if hostname.split("@")[0] in name]
        if names:
            process.hostname = names[0]
            break
    else:
        process.kill()
        pytest.fail(f"celery worker did not come up:\n{log.read_text()[-3000:]}")
    process.log_path = log
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_worker(name: str, log: Path, **env: str) -> subprocess.Popen:
    """Another real `celery worker` on every queue, in its own process group (so a test can SIGKILL it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "burnqed_web", "worker", "-Q", "gpu,cpu,default", "--pool", "solo",
         "--hostname", f"{name}-{os.getpid()}@%h", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=child_env(**env), stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


@contextlib.contextmanager
def consumers_paused(worker: subprocess.Popen, queues: tuple[str, ...]):
    """The suite's worker stops consuming `queues` inside the block (another worker takes their tasks), and
    consumes them again afterwards."""
    from burnqed_web.celery import app

    shared = [worker.hostname]
    for queue in queues:
        app.control.cancel_consumer(queue, destination=shared, reply=True)
    try:
        yield
    finally:
        for queue in queues:
            app.control.add_consumer(queue, destination=shared, reply=True)


@pytest.fixture
def doomed_worker(celery_worker_process, tmp_path):
    """A second worker that takes the next `gpu` task (the shared worker stops consuming `gpu` meanwhile), for
    a test to kill mid-job. Afterwards the broker is purged, so the killed worker's unacknowledged task is not
    redelivered into the next test, and the shared worker consumes `gpu` again."""
    from burnqed_web.celery import app

    app.control.purge()
    with consumers_paused(celery_worker_process, ("gpu",)):
        worker = start_worker("doomed", tmp_path / "doomed.log")
        worker.log_path = tmp_path / "doomed.log"
        try:
            yield worker
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            app.control.purge()


def make_user(username: str, role: str | None, password: str = "pw-for-tests-123"):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username, password=password)
    if role == "admin":
        user.is_staff = user.is_superuser = True
        user.save()
    if role:
        # get_or_create: transactional tests flush the groups that the roles migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def viewer(db):
    return make_user("vera", "viewer")


@pytest.fixture
def researcher(db):
    return make_user("rhea", "researcher")


@pytest.fixture
def admin_user(db):
    return make_user("ada", "admin")


@pytest.fixture
def no_role_user(db):
    return make_user("nobody", None)
