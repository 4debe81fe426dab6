"""Tracing released proofs through a real verifier (minilean worker processes) into SFT steps."""

import pytest

from prover.engine.adapters import StackSettings, open_verifier
from theorem_data.tracing import proof_tactics, trace_proofs

STATEMENT = "∀ (x : ℝ) (h : x = 2), x + 1 = 3"


@pytest.mark.timeout(120)
async def test_a_replaying_proof_becomes_steps_in_the_search_state_format_and_failures_say_why():
    proofs = [
        ("add_one", STATEMENT, ["intro x h", "linarith"]),
        ("add_one", STATEMENT, ["intro x h", "nlinarith"]),  # a second proof of a traced theorem is skipped
        ("wrong", "∀ (n : ℕ), n + 1 = n", ["intro n", "omega"]),
        ("short", STATEMENT, ["intro x h"]),
    ]
    async with open_verifier(StackSettings(num_workers=1)) as verifier:
        report = await trace_proofs(verifier, proofs)
    by_name = {t.theorem: t for t in report.traces}
    assert len(report.traces) == 3 and by_name["add_one"].proved
    first, second = by_name["add_one"].steps
    assert first.state.startswith("⊢ ∀") and first.tactic == "intro x h" and first.depth == 0
    assert "h : x = 2" in second.state and second.state.endswith("⊢ x + 1 = 3") and second.tactic == "linarith"
    assert not by_name["wrong"].proved and by_name["wrong"].failure.startswith("step 2 `omega`")
    assert by_name["short"].failure == "unsolved goals after 1 tactic(s)"
    assert [s.theorem for s in report.steps] == ["add_one", "add_one"]  # only replayed proofs give data
    assert report.failures_by_tactic() == {"omega": 1, "?": 1}


def test_a_proof_without_a_tactic_list_is_split_as_the_search_splits_it():
    assert proof_tactics("  intro x h\n  linarith") == ["intro x h", "linarith"]
    assert proof_tactics("ignored", ["norm_num", " "]) == ["norm_num"]
