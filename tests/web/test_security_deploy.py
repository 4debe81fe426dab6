"""Deployment fences: websocket origins checked with scheme, host and port; logins throttled; `check --deploy`
clean with the production variables; a Content-Security-Policy on every page; `serve` writes no secret to its
log."""

import os
import re
import secrets
import socket
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from burnqed_web.asgi import application
from tests.conftest import ROOT
from tests.web.test_realtime import session_headers


async def _connect(user, origin: bytes, host: bytes | None, scheme: str = "ws") -> bool:
    headers = [h for h in await sync_to_async(session_headers)(user) if h[0] != b"origin"]
    headers.append((b"origin", origin))
    if host is not None:
        headers.append((b"host", host))
    communicator = WebsocketCommunicator(application, "/ws/health/", headers=headers)
    communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin,host,scheme,accepted", [
    (b"http://127.0.0.1:8000", b"127.0.0.1:8000", "ws", True),
    (b"http://127.0.0.1:9999", b"127.0.0.1:8000", "ws", False),  # another site on the same host
    (b"https://127.0.0.1:8000", b"127.0.0.1:8000", "ws", False),  # another scheme
    (b"http://localhost:8000", b"127.0.0.1:8000", "ws", False),  # another host name
    (b"https://127.0.0.1", b"127.0.0.1", "wss", True),
    (b"http://127.0.0.1", b"127.0.0.1", "wss", False),
    (b"http://evil.example:8000", b"evil.example:8000", "ws", False),  # not an allowed host
    (b"null", b"127.0.0.1:8000", "ws", False),
])
async def test_websocket_origins_must_match_scheme_host_and_port(viewer, origin, host, scheme, accepted):
    assert await _connect(viewer, origin, host, scheme) is accepted


@pytest.mark.django_db(transaction=True)
async def test_a_trusted_origin_from_settings_is_accepted(viewer, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://dash.example.org"]
    assert await _connect(viewer, b"https://dash.example.org", b"127.0.0.1:8000")
    assert not await _connect(viewer, b"https://dash.example.org:8443", b"127.0.0.1:8000")


@pytest.fixture
def fresh_counters():
    from django.core.cache import cache

    cache.delete_many([f"login-failures:{name}" for name in ("rhea", "vera")])
    yield
    cache.delete_many([f"login-failures:{name}" for name in ("rhea", "vera")])


def test_logins_are_locked_after_repeated_failures_even_with_the_right_password(db, researcher, viewer, settings,
                                                                               fresh_counters):
    from django.contrib.auth import get_user_model

    settings.BURNQED_LOGIN_MAX_FAILURES = 3
    password = secrets.token_urlsafe(12)
    for user in (researcher, viewer):
        user.set_password(password)
        user.save()
    client = Client()
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": researcher.username, "password": "wrong"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"username": researcher.username, "password": password})
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()
    # the admin's login goes through the same backend
    admin_page = client.post("/admin/login/", {"username": researcher.username, "password": password})
    assert "_auth_user_id" not in client.session, admin_page.status_code
    # another user is not affected
    Client().post("/accounts/login/", {"username": viewer.username, "password": password})
    other = Client()
    other.post("/accounts/login/", {"username": viewer.username, "password": password})
    assert int(other.session["_auth_user_id"]) == get_user_model().objects.get(username=viewer.username).pk


def test_every_page_carries_a_content_security_policy(client, viewer):
    client.force_login(viewer)
    for url in ("/", "/accounts/login/", "/api/runs/"):
        policy = client.get(url).headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, url


def _production_env(**extra) -> dict:
    env = dict(os.environ, BURNQED_HTTPS="1", DJANGO_BEHIND_TLS_PROXY="1", DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY=secrets.token_urlsafe(64), DJANGO_ALLOWED_HOSTS="prover.example.org",
               PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_the_production_variables():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=_production_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    without = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300, env=dict(_production_env(), BURNQED_HTTPS="0"))
    assert "security.W008" in without.stdout + without.stderr  # the check does look at them


def test_serve_writes_neither_the_password_nor_the_api_token_to_its_log(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = secrets.token_urlsafe(12)
    env = dict(os.environ, PYTHONPATH=str(ROOT), BURNQED_VAR_DIR=str(tmp_path), BURNQED_DEMO_PASSWORD=password,
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = subprocess.run([sys.executable, "manage.py", "serve", "--no-worker", "--no-demo", "--check",
                             "--port", str(port)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "burn-qed web is up" in log
    assert password not in log
    assert not re.search(r"token: [0-9a-f]{40}", log)
