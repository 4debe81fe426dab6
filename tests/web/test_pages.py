"""The dashboard shell as a browser sees it: login, the home page, static files served locally."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from prover.models import Run
from prover.services import import_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_login_then_home_lists_datasets_and_runs(client, viewer):
    response = client.post("/accounts/login/", {"username": "vera", "password": "pw-for-tests-123"})
    assert response.status_code == 302
    import_dataset(name="mf2f", text=(ROOT / "data/benchmarks/minif2f_valid.json").read_text(), format="benchmark-json")
    Run.objects.create(name="first eval", theorems_total=244, theorems_proved=12, status="succeeded")
    page = client.get("/").content.decode()
    assert "mf2f" in page and ">244<" in page
    assert "first eval" in page and "12/244" in page and "status-succeeded" in page
    assert "vera · viewer" in page
    fragment = client.get("/runs/table/").content.decode()
    assert "first eval" in fragment and "<html" not in fragment  # what htmx swaps in every few seconds


@pytest.mark.django_db
def test_bad_login_says_so(client, viewer):
    response = client.post("/accounts/login/", {"username": "vera", "password": "wrong"})
    assert "didn't match" in response.content.decode()


@pytest.mark.django_db
def test_every_asset_is_served_from_this_server(client, viewer):
    client.force_login(viewer)
    for url in ("/", "/api/docs/", "/admin/login/"):
        html = client.get(url).content.decode()
        for src in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not src.startswith(("http://", "https://", "//")), f"{url} loads {src} from elsewhere"
    css = client.get("/static/css/app.css")
    assert css.status_code == 200 and b"--proved" in b"".join(css.streaming_content)


def test_serve_command_starts_the_whole_stack_and_stops_it(tmp_path):
    """The README's main job, minus the venv: migrate, import the benchmarks, Redis, worker, web server."""
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BURNQED_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3"}
    done = subprocess.run(
        [sys.executable, "manage.py", "serve", "--check", "--port", str(port)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"burn-qed web is up: http://127.0.0.1:{port}/" in done.stdout
    assert "imported 244 theorems" in done.stdout and "imported 488 theorems" in done.stdout
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the web server kept running after the command ended"
