"""The main job on one machine: database, bundled benchmarks, Redis (embedded if REDIS_URL is unset), a Celery
worker and the web server, all started and stopped together."""

import io
import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from burnqed_web import embedded_redis

STOP_GRACE_S = 15


def stop_children(children: list[subprocess.Popen]) -> None:
    """Stop every child and whatever it forked (Celery's pool and beat, server workers), whatever the signals.

    Each child leads its own process group (`start_new_session`), so a signal sent to serve alone - what a
    process manager does - reaches only serve, and serve stops each group as a whole: SIGTERM, then SIGKILL
    after a grace period, so a busy worker's pool is never orphaned. Further SIGINT/SIGTERM are ignored until
    the cleanup is done: a process manager that repeats itself must not cut it short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    live = [child for child in reversed(children) if child.poll() is None]
    for child in live:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in live:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in live:
        _signal_group(child, signal.SIGKILL)  # the group may outlive its leader: a pool child, a forked worker
        child.wait()


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


class Command(BaseCommand):
    help = "Migrate, import the bundled benchmarks, start Redis (embedded unless REDIS_URL), a worker and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("BURNQED_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("BURNQED_PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="start no Celery worker here")
        parser.add_argument("--check", action="store_true", help="start everything, check it answers, then stop")
        parser.add_argument("--no-demo", action="store_true",
                            help="start no local policy server and launch no demo eval")

    def handle(self, *args, host: str, port: int, no_worker: bool, check: bool, no_demo: bool, **options):
        children: list[subprocess.Popen] = []
        # SIGTERM (e.g. `kill`) must run the cleanup below too, or the worker and servers outlive us.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        # SIGINT too, explicitly: started in the background by a script or nohup, a process inherits SIGINT
        # ignored, and Python then never raises KeyboardInterrupt, so `kill -INT` did nothing.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            redis_process = embedded_redis.ensure_running_for_settings()
            if redis_process:
                children.append(redis_process)
                self.stdout.write(f"embedded Redis on {settings.REDIS_URL}")
            call_command("migrate", interactive=False, verbosity=0)
            call_command("import_bundled")
            password = self._demo_password()
            # Its API token and the password stay out of the log (logs are shipped and shared; docs/security.md).
            call_command("create_role_user", "demo", role="admin", password=password, stdout=io.StringIO())
            if not no_worker:
                children.append(self._start_worker())
            children.append(subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "burnqed_web.asgi:application"],
                start_new_session=True,
            ))
            url = f"http://{host}:{port}/"
            self._wait_for(url + "accounts/login/", children)
            self.stdout.write(self.style.SUCCESS(f"\nburn-qed web is up: {url}  (log in as demo; {self._password_hint()})\n"))
            if check:
                return
            if not no_demo:
                policy = self._start_policy_server()
                if policy is not None:
                    children.append(policy)
                self._wait_for(settings.BURNQED_POLICY_URL.rstrip("/") + "/health", children, timeout_s=600)
                run, note = self._launch_demo()
                self.stdout.write(note)
                self.stdout.write(self.style.SUCCESS(f"demo eval launched: {url}runs/{run.pk}/  ({run.theorems_total} "
                                                     f"theorems, best-first, SmolLM2 + minilean)\n"))
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            failed = next(child for child in children if child.poll() is not None)
            self.stderr.write(f"{failed.args[:3]} exited with code {failed.returncode}; stopping")
        except KeyboardInterrupt:
            pass
        finally:
            stop_children(children)

    def _start_policy_server(self) -> subprocess.Popen | None:
        """The local SGLang-compatible server over the embedded SmolLM2, unless a policy server already answers."""
        import urllib.error
        import urllib.request
        from urllib.parse import urlparse

        health = settings.BURNQED_POLICY_URL.rstrip("/") + "/health"
        try:
            urllib.request.urlopen(health, timeout=2)
            self.stdout.write(f"policy server already answering at {settings.BURNQED_POLICY_URL}")
            return None
        except (urllib.error.URLError, ConnectionError):
            pass
        target = urlparse(settings.BURNQED_POLICY_URL)
        self.stdout.write("starting the local policy server (SmolLM2-135M; the first start converts the model, ~1 min)")
        return subprocess.Popen([sys.executable, "-m", "prover.serving", "--host", target.hostname or "127.0.0.1",
                                 "--port", str(target.port or 30000)], start_new_session=True)

    def _launch_demo(self):
        from django.contrib.auth import get_user_model

        from ...demo import TrainedModel, demo_config
        from ...services import launch_run

        user = get_user_model().objects.get(username="demo")
        config, note = demo_config(policy_url=settings.BURNQED_POLICY_URL, model=TrainedModel.find())
        return launch_run(user=user, config=config, name="demo: easy miniF2F-valid problems"), note

    def _password_hint(self) -> str:
        if os.environ.get("BURNQED_DEMO_PASSWORD"):
            return "the password is BURNQED_DEMO_PASSWORD"
        return f"the password is in {settings.VAR_DIR / 'demo_password'}"

    def _demo_password(self) -> str:
        password = os.environ.get("BURNQED_DEMO_PASSWORD", "")
        if password:
            return password
        path = settings.VAR_DIR / "demo_password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        return path.read_text().strip()

    def _start_worker(self) -> subprocess.Popen:
        concurrency = os.environ.get("BURNQED_WORKER_CONCURRENCY", "1")
        return subprocess.Popen(
            [
                # -B: this worker also runs the periodic reaper of runs whose worker died.
                sys.executable, "-m", "celery", "-A", "burnqed_web", "worker", "-B", "-Q", "gpu,cpu,default",
                "--concurrency", concurrency, "--loglevel", "INFO", "--hostname", f"embedded@{os.uname().nodename}",
                "--schedule", str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
            start_new_session=True,
        )

    def _wait_for(self, url: str, children: list[subprocess.Popen], timeout_s: float = 60) -> None:
        """Wait until `url` answers 200, failing early if a child process dies."""
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise SystemExit("a component exited during start-up; see the log above")
            try:
                urllib.request.urlopen(url, timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # a slow first answer is not a failure
                time.sleep(0.3)
        raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")
