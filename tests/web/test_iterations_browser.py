"""An iteration in a real browser (Chromium via Playwright) against daphne, a real Celery worker, minilean, the
scripted policy and the /encode server: launch it from the form, watch its steps finish live on its page, read
the success table, and follow a step's checkpoint to its lineage."""

import json

import pytest

from tests.conftest import make_user
from tests.web.iteration_parts import import_datasets, seed_data
from tests.web.test_browser import ARTIFACTS, pytestmark  # noqa: F401 (the browser marks)
from tests.web.test_browser import browser as browser  # noqa: F401 (fixture)
from tests.web.test_browser import web_server as web_server  # noqa: F401 (fixture)


@pytest.fixture
def iteration_inputs(transactional_db, tmp_path):
    """Made before Playwright starts: its event loop makes the test thread an async context for Django."""
    import_datasets()
    make_user("rhea", "researcher", password="pw-for-tests-123")
    return seed_data(tmp_path)


def test_launch_an_iteration_watch_its_steps_finish_and_open_the_table(iteration_inputs, web_server, browser,
                                                                       tiny_model, prover_policy, encoder_url):
    search = json.dumps({"strategy": "best_first", "num_candidates": 2, "max_nodes": 4, "timeout_s": 60})
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(f"{web_server}/")
    page.fill('input[name="username"]', "rhea")
    page.fill('input[name="password"]', "pw-for-tests-123")
    page.click('button[type="submit"]')
    page.click("#new-iteration")
    page.fill('input[name="name"]', "from the browser")
    page.select_option('select[name="train_dataset"]', "train")
    page.select_option('select[name="eval_dataset"]', "heldout")
    page.select_option('select[name="base_adapter"]', "")
    page.select_option('select[name="seed_data"]', str(iteration_inputs.pk))
    page.fill('input[name="model_path"]', str(tiny_model))
    page.fill('textarea[name="search"]', search)
    page.fill('textarea[name="train_search"]', search)
    page.fill('textarea[name="run"]', json.dumps({"policy_url": prover_policy, "encoder_url": encoder_url,
                                                   "chunk_size": 2}))
    page.fill('textarea[name="sft"]', json.dumps({"max_steps": 2, "batch_size": 2, "grad_accum": 1, "log_every": 1,
                                                   "eval_every": 0, "max_length": 256}))
    page.click("#launch-iteration")
    page.wait_for_selector("#iteration[data-iteration-id]")
    page.evaluate("window.__sameDocument = true")

    # Steps finish one after the other while the page stays open: the websocket brings each change.
    page.wait_for_selector('tr.step[data-step="train_policy"][data-status="done"]', timeout=120_000)
    page.wait_for_function("document.querySelector('#iteration').dataset.status === 'succeeded'",
                           timeout=180_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("window.burnqedIteration.frames") > 0
    assert page.evaluate("window.burnqedIteration.refreshes") > 0
    statuses = page.eval_on_selector_all("tr.step", "rows => rows.map(r => [r.dataset.step, r.dataset.status])")
    assert [s for s in statuses if s[0] != "probes"] == [
        ["train_policy", "done"], ["eval_llm", "done"], ["search", "done"]]

    # The success table: the held-out LLM-only rate, linked to its run, with its compute.
    cell = page.locator('#success-table tr[data-metric="llm"] td').nth(1)
    assert "1/2" in cell.inner_text() and "nodes" in cell.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "iteration_page.png"), full_page=True)
    with page.expect_navigation():
        cell.locator("a").click()
    page.wait_for_selector("#run[data-run-id]")

    # The policy step's checkpoint: its lineage and the evaluations that used it.
    page.go_back()
    with page.expect_navigation():
        page.locator('tr.step[data-step="train_policy"] a').first.click()
    with page.expect_navigation():
        page.locator("#step-artifacts a").first.click()
    assert "sft-" in page.inner_text("#lineage")
    assert "run #" in page.inner_text("#used-by")
