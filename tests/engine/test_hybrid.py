"""hybrid and pass_at_n over in-process backends: replay cache, guards, PUCT frontier, sampling schedules."""

from __future__ import annotations

from prover.engine.config import SearchConfig
from prover.engine.inprocess import FunctionScorer, ScriptedPolicy, TableVerifier
from prover.engine.search import search_theorem
from prover.engine.tree import NodeKind
from tests.engine.conftest import INTRO, ROOT, SIMPED, STATEMENT, backends


async def test_shared_prefixes_replay_from_the_cache(verifier):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nsimp\nlinarith", -3.0), ("intro x h\nlinarith", -2.0)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid"),
                                  backends=backends(verifier, policy))
    assert result.proved and result.proof_tactics == ["intro x h", "linarith"]
    assert result.stats.trie_cache_hits == 1  # `intro x h` the second time
    assert result.stats.tactic_attempts == 4  # intro, simp, linarith (fails on SIMPED), linarith
    assert result.stats.rounds == 1 and result.stats.completions == 2
    assert result.usage is not None and result.usage.completions == 2


async def test_unproved_round_scores_new_nodes_and_expands_the_best_leaf_next(verifier):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nsimp\nring", -3.0)], SIMPED: [("exact h", -1.0)]})
    scorer = FunctionScorer(lambda s: {INTRO: 2.0}.get(s, 0.0))  # the EBM prefers the deeper state
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid"),
                                  backends=backends(verifier, policy, scorer))
    assert result.proved and result.proof_tactics == ["intro x h", "simp", "exact h"]
    assert scorer.calls == [[ROOT], [INTRO, SIMPED]]
    assert [c[0] for c in policy.calls] == [ROOT, SIMPED]  # EBM prior replaces the log-prob prior
    assert policy.calls[1][1:3] == (25, 832)  # depth 2 of the 32->4 proofs / 1024->256 tokens ramp


async def test_loop_to_a_visited_state_is_a_cache_failure():
    a = "⊢ a"
    verifier = TableVerifier({ROOT: {"go": [a]}, a: {"back": [ROOT], "stay": [a]}})
    policy = ScriptedPolicy(proofs={ROOT: [("go\nback\ngo", -1.0), ("go\nstay", -1.0)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid", max_rounds=1),
                                  backends=backends(verifier, policy))
    assert result.failure_reason == "max_rounds"
    assert result.stats.loops_detected == 2
    assert len([n for n in result.tree if n.kind is NodeKind.STATE]) == 1


async def test_depth_cap_stops_replay_without_creating_the_state():
    chain = {ROOT: {"s1": ["⊢ 1"]}, "⊢ 1": {"s2": ["⊢ 2"]}, "⊢ 2": {"s3": ["⊢ 3"]}}
    verifier = TableVerifier(chain)
    policy = ScriptedPolicy(proofs={ROOT: [("s1\ns2\ns3", -1.0)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid", max_depth=2,
                                                                                  max_rounds=1),
                                  backends=backends(verifier, policy))
    assert result.stats.depth_capped == 1
    assert [n.state_text for n in result.tree] == [ROOT, "⊢ 1"]


async def test_goal_unchanged_and_have_guards_stop_replay_but_keep_the_node():
    h1, h2, h3 = "h1 : x\n⊢ g", "h1 : x\nh2 : y\n⊢ g", "h1 : x\nh2 : y\nh3 : z\n⊢ g"
    verifier = TableVerifier({ROOT: {"intro": ["⊢ g"]}, "⊢ g": {"have a := x": [h1]}, h1: {"have b := y": [h2]},
                              h2: {"have c := z": [h3]}, h3: {"rfl": None}})
    policy = ScriptedPolicy(proofs={ROOT: [("intro\nhave a := x\nhave b := y\nhave c := z\nrfl", -1.0)]})
    config = SearchConfig.for_strategy("hybrid", max_rounds=1, max_goal_unchanged_steps=3)
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert not result.proved
    assert result.stats.goal_unchanged_pruned == 1
    assert result.tree[len(result.tree) - 1].state_text == h3  # the node the guard stopped at stays


async def test_have_that_adds_a_goal_stops_the_replay():
    verifier = TableVerifier({ROOT: {"have hp : p": ["⊢ p", "⊢ g"]}, "⊢ p\n\n⊢ g": {"trivial": ["⊢ g"]}})
    policy = ScriptedPolicy(proofs={ROOT: [("have hp : p\ntrivial", -1.0)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid", max_rounds=1),
                                  backends=backends(verifier, policy))
    assert result.stats.have_goal_increase_pruned == 1
    assert result.stats.tactic_attempts == 1


async def test_probe_tactics_run_at_the_leaf_first(verifier):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h", -1.0)]})
    config = SearchConfig.for_strategy("hybrid", probe_tactics=["norm_num"])
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert result.proved and result.proof_tactics == ["intro x h", "norm_num"]
    assert result.stats.probe_attempts == 2 and result.stats.probe_successes == 1
    terminal = result.tree[result.terminal_node_id]
    assert terminal.log_prob == -10.0 and terminal.source == "probe"


async def test_pass_at_n_is_one_round_of_n_root_samples(verifier):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nsimp\nring", -1.0)] * 3})
    config = SearchConfig.for_strategy("pass_at_n", pass_n=3, pass_max_tokens=4096)
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert result.failure_reason == "budget_exhausted"
    assert policy.calls == [(ROOT, 3, 4096, config.temperature)]
    assert result.stats.rounds == 1 and result.nodes_expanded == 1

    proving = ScriptedPolicy(proofs={ROOT: [("intro x h\nring", -1.0), ("intro x h\nlinarith", -2.0)]})
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, proving))
    assert result.proved and result.proof_tactics == ["intro x h", "linarith"]


async def test_a_completion_mentioning_sorry_is_skipped_whole(verifier):
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nexact sorry", -0.1), ("intro x h\nlinarith", -1.0)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid"),
                                  backends=backends(verifier, policy))
    assert result.proved and result.stats.sorry_rejected == 1
    assert result.stats.trie_cache_hits == 0  # the sorry completion never touched Lean or the cache
