"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real daphne server, a real
Celery worker, minilean and a scripted policy server: log in, launch an eval from the form, watch tree nodes
arrive over the websocket without reloading, open the proof, cancel a second run."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prover.services import import_dataset
from tests.conftest import ROOT, child_env, make_user
from tests.web.test_run_lifecycle import EASY, start_policy

CHROMIUM = os.environ.get("BURNQED_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason=f"Chromium not found at {CHROMIUM}: bin/test installs Debian's chromium when run as root"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_server(celery_worker_process):
    port = free_port()
    log = open(ARTIFACTS.parent / "var" / f"daphne-{port}.log", "w") if (ARTIFACTS.parent / "var").exists() else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "burnqed_web.asgi:application"], cwd=ROOT, env=child_env(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield instance
        instance.close()


@pytest.fixture
def easy_dataset_and_researcher(transactional_db):
    """Made before Playwright starts: its event loop makes the test thread an async context for Django."""
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    make_user("rhea", "researcher", password="pw-for-tests-123")


def test_launch_watch_open_proof_and_cancel(easy_dataset_and_researcher, web_server, browser):
    # Slow enough (0.6 s per policy call) that the run is still going when the page connects.
    policy, policy_url = start_policy("intros", "linarith", delay=0.6)
    slow, slow_url = start_policy("nlinarith", delay=1.0)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{web_server}/")
        page.fill('input[name="username"]', "rhea")
        page.fill('input[name="password"]', "pw-for-tests-123")
        page.click('button[type="submit"]')
        page.click("#new-run")
        page.select_option('select[name="dataset"]', "easy")
        page.fill('input[name="name"]', "browser eval")
        page.fill('input[name="policy_url"]', policy_url)
        page.select_option('select[name="strategy"]', "best_first")
        page.fill('input[name="num_candidates"]', "2")
        page.fill('input[name="max_nodes"]', "6")
        page.fill('input[name="chunk_size"]', "3")
        page.click("#launch")
        page.wait_for_selector("#run[data-run-id]")
        page.evaluate("window.__sameDocument = true")

        # Nodes arrive over the websocket: the tree fills in and the document is never reloaded.
        page.wait_for_selector("#tree .node", timeout=60_000)
        page.wait_for_function("document.querySelector('#run').dataset.status === 'succeeded'", timeout=120_000)
        assert page.evaluate("window.__sameDocument") is True
        assert page.evaluate("window.burnqedLive.frames") > 0
        assert page.inner_text("#c-proved") == "2"

        row = page.locator('tr[data-theorem-name="add_one"]')
        assert row.locator(".status").inner_text() == "proved"
        row.locator("a.pick").click()
        page.wait_for_selector("#tree .node.on-proof .badge.qed", timeout=10_000)
        page.locator("#tree .node.terminal .node-head").first.click()
        assert "goals accomplished" in page.inner_text("#tree")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "run_page.png"), full_page=True)

        # The proof, re-checked as a whole, on the theorem page.
        with page.expect_navigation():
            row.locator('a[title="theorem page"]').click()
        assert "linarith" in page.inner_text("#shortest-proof")

        # A second, slow run, cancelled from its page.
        page.goto(f"{web_server}/runs/new/")
        page.select_option('select[name="dataset"]', "easy")
        page.fill('input[name="name"]', "to cancel")
        page.fill('input[name="policy_url"]', slow_url)
        page.fill('input[name="max_nodes"]', "500")
        page.fill('input[name="num_candidates"]', "2")
        page.click("#launch")
        page.wait_for_selector("#tree .node", timeout=60_000)
        page.click("#cancel-run")
        page.wait_for_function("document.querySelector('#run').dataset.status === 'cancelled'", timeout=60_000)
        assert page.locator("#run-status").inner_text() == "cancelled"
    finally:
        for process in (policy, slow):
            process.kill()
            process.wait()
