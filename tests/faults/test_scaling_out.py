"""Two Celery workers on one machine: an eval's chunks spread over both, a worker that joins mid-run takes work,
and the results are those of one worker (same proofs for the same seed and budget)."""

import os
import re
import signal
import time

import pytest

from prover.models import ProofNode, TheoremResult
from prover.services import import_dataset, launch_run
from tests.conftest import start_worker
from tests.web.test_run_lifecycle import config, start_policy, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)

PROVABLE = [f'{{"name": "p{i}", "formal_statement": "theorem p{i} (x : ℝ) (h : x = {i}) : x + 1 = {i + 1} := by"}}'
            for i in range(4)]
FALSE = [f'{{"name": "f{i}", "formal_statement": "theorem f{i} (x : ℝ) (h : x = {i}) : x = {i + 1} := by"}}'
         for i in range(4)]
DATASET = "\n".join(PROVABLE + FALSE)


@pytest.fixture
def gpu_queue_to_ourselves(celery_worker_process):
    """The shared worker stops consuming `gpu`, so only the workers a test starts take chunks."""
    from burnqed_web.celery import app

    app.control.purge()
    shared = [celery_worker_process.hostname]
    app.control.cancel_consumer("gpu", destination=shared, reply=True)
    workers = []
    yield workers
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    app.control.purge()
    app.control.add_consumer("gpu", destination=shared, reply=True)


@pytest.fixture
def one_tactic_policy():
    # Every request asks for two samples (num_candidates=2) and gets these two in this order, whichever worker
    # asks first: the proofs cannot depend on the interleaving.
    process, url = start_policy("intros", "linarith", delay=0.3)
    yield url
    process.kill()
    process.wait()


def chunks_taken(log) -> int:
    return len(re.findall(r"burnqed\.run_chunk\[[^\]]+\] received", log.read_text()))


def outcome(run) -> dict[str, tuple[str, str]]:
    return {r.theorem.name: (r.status, r.proof) for r in TheoremResult.objects.filter(run=run).select_related("theorem")}


def test_chunks_spread_over_two_workers_and_one_joining_mid_run_takes_work(researcher, gpu_queue_to_ourselves,
                                                                        one_tactic_policy, tmp_path):
    import_dataset(name="eight", text=DATASET, format="lean-workbook")
    spec = {**config(one_tactic_policy, max_nodes=6, timeout_s=60), "dataset": "eight", "chunk_size": 1}
    first_log, joiner_log = tmp_path / "first.log", tmp_path / "joiner.log"
    gpu_queue_to_ourselves.append(first := start_worker("first", first_log))
    run = launch_run(user=researcher, config=spec, name="two workers")
    deadline = time.monotonic() + 90
    while not ProofNode.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, first_log.read_text()[-2000:]
        time.sleep(0.1)
    gpu_queue_to_ourselves.append(start_worker("joiner", joiner_log))  # joins a run already under way
    run = wait_finished(run, timeout_s=240)
    assert run.status == "succeeded", run.error
    assert chunks_taken(first_log) >= 1 and chunks_taken(joiner_log) >= 1, (chunks_taken(first_log),
                                                                           chunks_taken(joiner_log))
    assert chunks_taken(first_log) + chunks_taken(joiner_log) == 8
    shared_out = outcome(run)
    assert {name for name, (status, _) in shared_out.items() if status == "proved"} == {f"p{i}" for i in range(4)}, {
        r.theorem.name: (r.status, r.failure_reason, r.error) for r in TheoremResult.objects.filter(run=run)}

    os.killpg(first.pid, signal.SIGKILL)  # the same run again, on one worker alone
    first.wait()
    alone = launch_run(user=researcher, config=spec, name="one worker")
    alone = wait_finished(alone, timeout_s=240)
    assert alone.status == "succeeded", alone.error
    assert outcome(alone) == shared_out
    assert alone.theorems_proved == run.theorems_proved == 4
