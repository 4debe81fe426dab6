"""The main job on one machine: database, bundled benchmarks, Redis (embedded if REDIS_URL is unset), a Celery
worker and the web server, all started and stopped together."""

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


class Command(BaseCommand):
    help = "Migrate, import the bundled benchmarks, start Redis (embedded unless REDIS_URL), a worker and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("BURNQED_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("BURNQED_PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="start no Celery worker here")
        parser.add_argument("--check", action="store_true", help="start everything, check it answers, then stop")

    def handle(self, *args, host: str, port: int, no_worker: bool, check: bool, **options):
        children: list[subprocess.Popen] = []
        redis_process = embedded_redis.ensure_running_for_settings()
        if redis_process:
            children.append(redis_process)
            self.stdout.write(f"embedded Redis on {settings.REDIS_URL}")
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("import_bundled")
            password = self._demo_password()
            call_command("create_role_user", "demo", role="admin", password=password)
            if not no_worker:
                children.append(self._start_worker())
            children.append(
                subprocess.Popen([sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "burnqed_web.asgi:application"])
            )
            url = f"http://{host}:{port}/"
            self._wait_for(url, children)
            self.stdout.write(self.style.SUCCESS(f"\nburn-qed web is up: {url}  (log in as demo / {password})\n"))
            if check:
                return
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            failed = next(child for child in children if child.poll() is not None)
            self.stderr.write(f"{failed.args[:3]} exited with code {failed.returncode}; stopping")
        except KeyboardInterrupt:
            pass
        finally:
            for child in reversed(children):
                if child.poll() is None:
                    child.terminate()
            for child in reversed(children):
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

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
                sys.executable, "-m", "celery", "-A", "burnqed_web", "worker", "-Q", "gpu,cpu,default",
                "--concurrency", concurrency, "--loglevel", "INFO", "--hostname", f"embedded@{os.uname().nodename}",
            ]
        )

    def _wait_for(self, url: str, children: list[subprocess.Popen], timeout_s: float = 60) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise SystemExit("a component exited during start-up; see the log above")
            try:
                urllib.request.urlopen(url + "accounts/login/", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise SystemExit(f"the web server did not answer on {url} within {timeout_s:.0f} s")
