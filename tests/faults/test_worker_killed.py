"""A Celery worker SIGKILLed mid-chunk: the broker itself redelivers the unacknowledged chunk to another worker
(no hand-made re-send), the run completes, and every theorem has exactly one result and one search tree."""

import os
import signal
import time

import pytest
from django.db.models import Count

from prover.models import ProofNode, Run, TheoremResult
from prover.services import import_dataset, launch_run
from tests.conftest import start_worker
from tests.web.test_run_lifecycle import EASY, config, start_policy, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)

# Redelivery after 2 s out, swept every second: seconds in a test, an hour by default in production.
FAST_REDELIVERY = {"BURNQED_BROKER_VISIBILITY_S": "2", "BURNQED_BROKER_RESTORE_EVERY_S": "1"}


@pytest.fixture
def slowish_policy():
    process, url = start_policy("nlinarith", "intros", "linarith", delay=0.3)
    yield url
    process.kill()
    process.wait()


def test_an_eval_chunk_of_a_killed_worker_is_redelivered_and_finished_once(researcher, doomed_worker, slowish_policy,
                                                                          tmp_path):
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    # Three candidates per request: the scripted policy cycles through its three tactics one completion at a
    # time, so each request gets all of them whatever the dead worker asked before (two would make the heir's
    # first pair depend on when the kill came: `linarith, nlinarith` cannot open the ∀ goal without `intros`).
    run = launch_run(user=researcher, config=config(slowish_policy, max_nodes=8, timeout_s=120, num_candidates=3),
                     name="redelivered")
    deadline = time.monotonic() + 90
    while not ProofNode.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, doomed_worker.log_path.read_text()[-2000:]
        time.sleep(0.1)
    os.killpg(doomed_worker.pid, signal.SIGKILL)  # mid-chunk: its task was never acknowledged
    doomed_worker.wait()
    heir = start_worker("heir", tmp_path / "heir.log", BURNQED_JOB_STALE_S="1", **FAST_REDELIVERY)
    try:
        run = wait_finished(run, timeout_s=150)
    finally:
        os.killpg(heir.pid, signal.SIGKILL)
        heir.wait()
    log = (tmp_path / "heir.log").read_text()
    assert run.status == "succeeded", run.error + log[-3000:]
    # Only the heir consumed `gpu` after the kill, and the run's chord fires only when every chunk has ended:
    # the heir took the dead worker's chunk from the broker.
    results = TheoremResult.objects.filter(run=run)
    assert results.count() == 3 and run.theorems_done == 3
    assert not results.filter(status__in=["pending", "running"]).exists()
    add_one = results.get(theorem__name="add_one")
    tree = list(ProofNode.objects.filter(run=run, theorem=add_one.theorem).values_list("tactic", "status", "error"))
    assert add_one.status == "proved", (add_one.failure_reason, add_one.error, tree)
    roots = ProofNode.objects.filter(run=run, parent_node_id=None).values("theorem").annotate(n=Count("id"))
    assert sorted(r["n"] for r in roots) == [1, 1, 1], "a redelivered theorem must not grow a second tree"
    assert Run.objects.get(pk=run.pk).attempts >= 1
