"""A real run (Celery worker, minilean, a policy server speaking SGLang's protocol) with probe tactics stores
each proof step's source, and the run page shows it per step."""

import pytest

from prover.models import ProofNode, TheoremResult
from prover.services import import_dataset, launch_run
from tests.web.test_run_lifecycle import EASY, config, start_policy, wait_finished


@pytest.mark.django_db(transaction=True)
def test_a_run_with_probe_tactics_stores_probe_sources_and_the_page_shows_them(researcher, celery_worker_process,
                                                                                client):
    policy, url = start_policy("intro x h")  # the policy only ever introduces; a probe has to close the goal
    try:
        import_dataset(name="easy", text=EASY, format="lean-workbook")
        run = launch_run(user=researcher, config={**config(url, probe_tactics=["linarith"]), "theorems": ["add_one"]},
                         name="probes")
        run = wait_finished(run)
    finally:
        policy.kill()
        policy.wait()
    assert run.status == "succeeded", run.error
    result = TheoremResult.objects.get(run=run)
    assert result.status == "proved" and result.proof_tactics == ["intro x h", "linarith"]
    terminal = ProofNode.objects.get(run=run, is_terminal=True)
    assert terminal.source == "probe" and terminal.log_prob == -10.0
    assert ProofNode.objects.get(run=run, tactic="intro x h", depth=1).source == "policy"

    client.force_login(researcher)
    page = client.get(f"/runs/{run.pk}/").content.decode()
    steps = page.split('data-theorem-name="add_one"><b>add_one</b>', 1)[1].split("</ol>", 1)[0]
    assert steps.index("<code>intro x h</code>") < steps.index('source-policy">policy') < steps.index(
        "<code>linarith</code>") < steps.index('source-probe">probe')
