"""The policy server down: a run fails fast with a clear reason once the circuit breaker opens (it does not
wait out every theorem's retries), and a run launched after the server is back succeeds."""

import pytest

from prover.models import TheoremResult
from prover.services import import_dataset, launch_run
from tests.faults.processes import free_port
from tests.web.test_run_lifecycle import EASY, config, start_policy, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_against_a_dead_policy_fails_with_the_reason_and_one_after_its_return_succeeds(
        researcher, celery_worker_process):
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    more = "\n".join(f'{{"name": "t{i}", "formal_statement": "theorem t{i} (x : ℝ) (h : x = {i}) : x = {i} := by"}}'
                     for i in range(5))
    import_dataset(name="six", text=more, format="lean-workbook")
    port = free_port()  # nothing listens there: the policy server is down
    url = f"http://127.0.0.1:{port}"
    # One chunk, theorems one after another: the first failures open the breaker, the rest are refused at once.
    down = launch_run(user=researcher, config={**config(url), "dataset": "six", "chunk_size": 5}, name="policy down")
    down = wait_finished(down, timeout_s=150)
    errors = {r.theorem.name: r.error for r in TheoremResult.objects.filter(run=down).select_related("theorem")}
    assert down.status == "failed", (down.status, down.error, errors)
    assert str(port) in down.error or "policy" in down.error.lower(), down.error
    assert all(f"policy server {url}" in error for error in errors.values()), errors  # each says why, and where
    assert "failed after 3 attempt" in errors["t0"]
    assert "circuit open" in errors["t3"] and "circuit open" in errors["t4"], errors  # refused without waiting

    server, back_url = start_policy("intros", "linarith", port=port)
    try:
        assert back_url == url
        back = wait_finished(launch_run(user=researcher, config=config(url), name="policy back"), timeout_s=150)
    finally:
        server.kill()
        server.wait()
    assert back.status == "succeeded", back.error
    assert back.theorems_proved == 2
