"""Every step of a best-first tree says who proposed it: the policy, or a fixed probe tactic."""

from __future__ import annotations

from prover.engine.config import SearchConfig
from prover.engine.inprocess import ScriptedPolicy
from prover.engine.search import search_theorem
from prover.engine.tree import NodeKind
from tests.engine.conftest import INTRO, ROOT, STATEMENT, backends


async def test_probe_steps_are_labelled_probe_and_policy_steps_policy(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("simp", -0.1)]})
    config = SearchConfig.for_strategy("best_first", probe_tactics=["exact h", "linarith"])
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert result.proved and result.proof_tactics == ["intro x h", "linarith"]
    by_tactic = {(n.depth, n.tactic): n for n in result.tree if n.kind is not NodeKind.ROOT}
    assert by_tactic[(1, "intro x h")].source == "policy"
    assert by_tactic[(2, "simp")].source == "policy"
    assert by_tactic[(1, "exact h")].source == "probe" and by_tactic[(1, "exact h")].kind is NodeKind.FAILED_TACTIC
    terminal = result.tree[result.terminal_node_id]
    assert terminal.tactic == "linarith" and terminal.source == "probe" and terminal.log_prob == -10.0
    assert result.stats.probe_attempts >= 3 and result.stats.probe_successes >= 1


async def test_without_probe_tactics_every_step_is_the_policys(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("linarith", -0.1)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy))
    assert result.proved
    assert {n.source for n in result.tree if n.kind is not NodeKind.ROOT} == {"policy"}
    assert result.stats.probe_attempts == 0
