"""A Lean REPL (minilean) SIGKILLed mid-theorem during an eval on a real Celery worker: the theorem is retried on
a fresh REPL or recorded as `error` with the reason, the run completes, and no REPL is left behind, zombie or
alive."""

import os
import signal
import time
from pathlib import Path

import pytest

from prover.models import ProofNode, TheoremResult
from prover.services import import_dataset, launch_run
from tests.faults.processes import alive, command_line, descendants
from tests.web.test_run_lifecycle import EASY, config, start_policy, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)


def repls_of(pid: int) -> list[int]:
    return [p for p in descendants(pid) if "minilean" in command_line(p)]


def zombies_of(pid: int) -> list[int]:
    found = []
    for child in descendants(pid):
        try:
            if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                found.append(child)
        except OSError:
            pass
    return found


@pytest.fixture
def slow_policy():
    process, url = start_policy("nlinarith", "intros", "linarith", delay=0.4)
    yield url
    process.kill()
    process.wait()


def test_a_repl_killed_mid_theorem_is_replaced_and_the_run_completes(researcher, celery_worker_process, slow_policy):
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    run = launch_run(user=researcher, config={**config(slow_policy, max_nodes=10), "chunk_size": 3}, name="repl kill")
    worker = celery_worker_process.pid
    deadline = time.monotonic() + 90
    while not (ProofNode.objects.filter(run=run).exists() and repls_of(worker)):
        assert time.monotonic() < deadline, "the run never started searching"
        time.sleep(0.05)
    victims = repls_of(worker)
    for victim in victims:  # every REPL of the pool: whichever theorem is being verified loses its REPL
        os.kill(victim, signal.SIGKILL)
    run = wait_finished(run, timeout_s=150)

    assert run.status in ("succeeded", "failed"), run.status
    results = TheoremResult.objects.filter(run=run)
    assert results.count() == 3 and not results.filter(status__in=["pending", "running"]).exists()
    for result in results.filter(status="error"):
        assert result.error, f"{result.theorem.name} ended in error without a reason"
    # The tactic that lost its REPL was tried again on the fresh one: the run proves what it proves unharmed.
    proved = set(results.filter(status="proved").values_list("theorem__name", flat=True))
    assert proved == {"add_one", "double"}, {r.theorem.name: (r.status, r.failure_reason, r.error) for r in results}
    assert run.metrics.get(name__endswith=".restarts").value >= 1  # the pool did replace a REPL
    deadline = time.monotonic() + 20
    while (left := [p for p in victims if alive(p)] + zombies_of(worker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, "REPLs left behind: " + " | ".join(f"{p} {command_line(p)}" for p in left)
    assert not [p for p in repls_of(worker) if alive(p)], "the run ended but its pool's REPLs still run"
