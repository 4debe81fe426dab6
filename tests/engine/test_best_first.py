"""best_first over in-process backends: ordering, deferred batch scoring, merges, proofs, re-check."""

from __future__ import annotations

from prover.engine.config import SearchConfig
from prover.engine.inprocess import FunctionScorer, ScriptedPolicy, TableVerifier
from prover.engine.search import search_theorem
from prover.engine.tree import NodeKind, NodeStatus
from tests.engine.conftest import INTRO, ROOT, RULES, SIMPED, STATEMENT, backends


async def test_proves_and_rechecks_the_proof(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("norm_num", -0.1), ("intro x h", -0.5)],
                                     INTRO: [("simp", -0.2), ("linarith", -0.4)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy))
    assert result.proved and result.failure_reason == "proved"
    assert result.proof_tactics == ["intro x h", "linarith"]
    assert result.proof_text == "  intro x h\n  linarith"
    assert verifier.checks == [(STATEMENT, ["intro x h", "linarith"])]
    kinds = [n.kind for n in result.tree]
    assert kinds.count(NodeKind.FAILED_TACTIC) == 1  # norm_num at the root
    failed = next(n for n in result.tree if n.kind is NodeKind.FAILED_TACTIC)
    assert failed.tactic == "norm_num" and "failed" in failed.error
    assert result.tree.root.status is NodeStatus.PROVED
    assert result.stats.tactic_attempts == 4 and result.stats.tactic_failures == 1
    assert result.usage is not None and result.usage.nodes_expanded == 2


async def test_children_of_a_round_are_scored_in_one_batch_and_ordered_by_the_blend():
    # Two root tactics lead to two states; the EBM prefers the one with the worse log-prob.
    a, b = "⊢ a", "⊢ b"
    verifier = TableVerifier({ROOT: {"ta": [a], "tb": [b]}, b: {"close": None}})
    policy = ScriptedPolicy(tactics={ROOT: [("ta", -0.1), ("tb", -0.2)], a: [("nothing", -0.1)],
                                     b: [("close", -0.1)]})
    scorer = FunctionScorer(lambda s: {a: 5.0, b: -5.0}.get(s, 0.0))
    config = SearchConfig.for_strategy("best_first", beta=1.0)
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy, scorer))
    assert scorer.calls == [[ROOT], [a, b]]  # root, then both children of round 1 in ONE call
    assert result.proved and result.nodes_expanded == 2  # b was expanded before a
    expanded = {n.tactic: n.expansion_order for n in result.tree if n.expansion_order is not None}
    assert expanded == {"": 0, "tb": 1}

    llm_only = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert llm_only.proved and llm_only.nodes_expanded == 3  # without the EBM, a comes first


async def test_a_second_path_to_a_known_state_becomes_a_merge_edge_and_shares_its_proof():
    a, b, c = "⊢ a", "⊢ b", "⊢ c"
    verifier = TableVerifier({ROOT: {"ta": [a], "tb": [b], "loop": [ROOT]}, a: {"go": [c]}, b: {"go2": [c]},
                              c: {"close": None, "back": [a]}})
    policy = ScriptedPolicy(tactics={ROOT: [("ta", -0.1), ("tb", -0.2)], a: [("go", -3.0)], b: [("go2", -3.0)],
                                     c: [("back", -0.1), ("close", -0.2)]})
    events: list = []
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy), on_event=events.append)
    assert result.proved
    node_c = next(n for n in result.tree if n.state_text == c)
    assert [result.tree[p].state_text for p in node_c.parent_ids] == [a, b]
    assert result.stats.states_merged == 1
    assert result.stats.loops_detected == 1  # c --back--> a would close a cycle: refused
    assert all(result.tree[i].status is NodeStatus.PROVED for i in (0, *node_c.parent_ids, node_c.id))
    edge = next(e for e in events if e.type == "edge_added")
    assert edge.to_dict()["node_id"] == node_c.id and edge.tactic == "go2"
    assert result.proof_tactics == ["ta", "go", "close"]  # primary parents


async def test_rejected_proof_does_not_count_and_search_goes_on():
    class Suspicious(TableVerifier):
        async def check_proof(self, statement, tactics):
            result = await super().check_proof(statement, tactics)
            if tactics[-1] == "linarith":
                return type(result)(False, "linarith proof rejected by the fresh process")
            return result

    verifier = Suspicious(RULES)
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("linarith", -0.1), ("simp", -0.2)],
                                     SIMPED: [("exact h", -0.1)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy))
    assert result.proved and result.proof_tactics == ["intro x h", "simp", "exact h"]
    assert result.stats.proofs_rejected_by_recheck == 1
    rejected = next(n for n in result.tree if n.kind is NodeKind.TERMINAL and n.tactic == "linarith")
    assert rejected.status is NodeStatus.FAILED and "re-check failed" in rejected.error


async def test_nodes_at_max_depth_are_pruned_not_expanded(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("simp", -0.1)],
                                     SIMPED: [("exact h", -0.1)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first", max_depth=2),
                                  backends=backends(verifier, policy))
    assert result.failure_reason == "frontier_exhausted"
    assert result.stats.nodes_pruned == 1
    assert all(call[0] != SIMPED for call in policy.calls)


async def test_sorry_tactics_are_never_sent_to_lean(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("exact sorry", -0.01), ("intro x h", -0.5)],
                                     INTRO: [("linarith", -0.1)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy))
    assert result.proved and result.stats.sorry_rejected == 1
    assert result.stats.tactic_attempts == 2


async def test_batch_expansion_asks_the_policy_once_for_several_nodes():
    a, b = "⊢ a", "⊢ b"
    verifier = TableVerifier({ROOT: {"ta": [a], "tb": [b]}, a: {"x": ["⊢ c"]}, b: {"close": None}})
    policy = ScriptedPolicy(tactics={ROOT: [("ta", -0.1), ("tb", -0.2)], a: [("x", -0.1)], b: [("close", -0.1)]})
    config = SearchConfig.for_strategy("best_first", batch_expansion_size=2)
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert result.proved
    assert [c[0] for c in policy.calls] == [ROOT, a, b]  # calls are per state; the 2nd round held a and b
    assert result.stats.rounds == 2 and len(result.stats.generate_latencies_us) == 2
    assert result.nodes_expanded == 3


async def test_probe_tactics_follow_the_candidates_without_duplicates(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("simp", -0.1)]})
    config = SearchConfig.for_strategy("best_first", probe_tactics=["intro  x h", "linarith"])
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert result.proved and result.proof_tactics == ["intro x h", "linarith"]
    root_tactics = [result.tree[c].tactic for c in result.tree.root.children]
    assert root_tactics == ["intro x h", "linarith"]  # `intro  x h` was the policy's already; linarith fails
    assert result.tree[result.terminal_node_id].log_prob == -10.0
