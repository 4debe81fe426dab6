"""Every failure reason, each budget, errors from the backends, and cancellation."""

from __future__ import annotations

import asyncio
import threading

import pytest

from prover.engine.backends import Backends, VerifierError
from prover.engine.config import SearchConfig
from prover.engine.inprocess import (
    FunctionScorer,
    ScriptedPolicy,
    SyntheticPolicy,
    SyntheticVerifier,
    TableVerifier,
)
from prover.engine.search import search_theorem
from tests.engine.conftest import INTRO, ROOT, STATEMENT, backends

SYNTH = Backends(SyntheticVerifier(), SyntheticPolicy())


@pytest.mark.parametrize(("strategy", "budget", "check"), [
    ("best_first", {"max_nodes": 7}, lambda s: s.nodes_expanded == 7),
    ("best_first", {"max_tokens": 100, "num_candidates": 4}, lambda s: s.completion_tokens >= 100),
    ("hybrid", {"max_completions": 20, "num_proofs": 8, "min_proofs": 8}, lambda s: s.completions == 24),
    ("hybrid", {"max_nodes": 3}, lambda s: s.nodes_expanded == 3),
    ("hybrid", {"max_tokens": 500, "num_proofs": 4, "min_proofs": 4}, lambda s: s.completion_tokens == 512),
])
async def test_budgets_stop_the_search_between_rounds(strategy, budget, check):
    config = SearchConfig.for_strategy(strategy, max_rounds=None, **budget)
    result = await search_theorem("t", STATEMENT, config=config, backends=SYNTH)
    assert result.failure_reason == "budget_exhausted"
    assert check(result.stats), result.stats.to_dict(with_latencies=False)


async def test_max_rounds_and_depth_are_reported():
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("hybrid", max_rounds=3),
                                  backends=SYNTH)
    assert result.failure_reason == "max_rounds" and result.stats.rounds == 3
    assert result.max_depth_reached <= 25


async def test_timeout_is_checked_between_rounds():
    slow = Backends(SyntheticVerifier(latency_s=0.01), SyntheticPolicy())
    config = SearchConfig.for_strategy("best_first", timeout_s=0.05, num_candidates=2)
    result = await search_theorem("t", STATEMENT, config=config, backends=slow)
    assert result.failure_reason == "timeout"
    assert result.stats.nodes_expanded >= 1


async def test_frontier_exhausted(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("norm_num", -0.1)]})
    for strategy in ("best_first", "hybrid"):
        result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy(strategy),
                                      backends=backends(verifier, policy))
        assert result.failure_reason == "frontier_exhausted", strategy
        assert result.tree.root.status.value == "failed"


async def test_a_dead_verifier_ends_the_theorem_with_error_and_message():
    verifier = TableVerifier({ROOT: {"intro x h": VerifierError("worker 3 died: broken pipe")}})
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)]})
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy))
    assert result.failure_reason == "error"
    assert "worker 3 died: broken pipe" in result.error


async def test_a_statement_that_cannot_start_is_an_error_result():
    verifier = TableVerifier({}, reject_statements=["garbage"])
    events: list = []
    result = await search_theorem("bad", "garbage", config=SearchConfig(), backends=backends(verifier,
                                  ScriptedPolicy()), on_event=events.append)
    assert result.failure_reason == "error" and "parse error" in result.error
    assert [e.type for e in events] == ["theorem_finished"]


async def test_a_failing_scorer_never_ends_the_search(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("linarith", -0.1)]})
    scorer = FunctionScorer(len, fail=True)
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy, scorer))
    assert result.proved
    assert result.tree.root.ebm_score == 0.0  # a failed root score is 0.0 (docs/search.md#value-scores)
    child = next(n for n in result.tree if n.state_text == INTRO)
    assert child.ebm_score == -1e6 and child.energy is None  # a failed batch is -1e6
    assert result.stats.ebm_failures == 2


async def test_ebm_is_skipped_below_its_minimum_depth(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("simp", -0.1)]})
    scorer = FunctionScorer(len)
    config = SearchConfig.for_strategy("best_first", ebm_min_depth=2)
    await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy, scorer))
    assert scorer.calls == [["x : ℝ\nh : x = 2\n⊢ x = 2"]]  # only the depth-2 state was scored


@pytest.mark.parametrize("strategy", ["best_first", "hybrid"])
async def test_cancellation_between_expansions(strategy):
    flag = threading.Event()
    seen: list = []

    def on_event(event):
        seen.append(event)
        if event.type == "node_expanded" and event.expansion_order == 2:
            flag.set()

    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy(strategy, max_rounds=None),
                                  backends=SYNTH, on_event=on_event, cancel=flag)
    assert result.failure_reason == "cancelled"
    assert result.stats.nodes_expanded == 3
    assert seen[-1].type == "theorem_finished" and seen[-1].failure_reason == "cancelled"


async def test_cancellation_accepts_a_callable_and_an_asyncio_event():
    event = asyncio.Event()
    event.set()
    result = await search_theorem("t", STATEMENT, config=SearchConfig(), backends=SYNTH, cancel=event)
    assert result.failure_reason == "cancelled" and result.nodes_expanded == 0
    result = await search_theorem("t", STATEMENT, config=SearchConfig(), backends=SYNTH, cancel=lambda: True)
    assert result.failure_reason == "cancelled"
    with pytest.raises(TypeError, match="cancel must be"):
        await search_theorem("t", STATEMENT, config=SearchConfig(), backends=SYNTH, cancel=42)


def _killing_space():
    from prover.engine.backends import StateLostError

    rules = {ROOT: {"intro x h": [INTRO]},
             INTRO: {"slow_tactic": StateLostError("worker 0 lost its states (timeout)"), "linarith": None}}
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("slow_tactic", -0.1), ("linarith", -0.2)]})
    return TableVerifier(rules), policy


async def test_a_tactic_that_kills_the_verifier_twice_fails_and_the_proof_restarts_with_states_rebuilt():
    verifier, policy = _killing_space()
    events: list = []
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy), on_event=events.append)
    assert result.proved and result.proof_tactics == ["intro x h", "linarith"]
    # Killed on its retry too (one restart each), then linarith on the third process rebuilds INTRO again.
    assert result.stats.verifier_restarts == 2 and result.stats.states_rebuilt == 2
    slow = next(n for n in result.tree if n.tactic == "slow_tactic")
    assert slow.status.value == "failed" and "lost" in slow.error
    assert any(e.type == "metric" and e.name == "verifier_restarts" for e in events)


async def test_without_restarts_a_lost_verifier_is_an_error():
    verifier, policy = _killing_space()
    config = SearchConfig.for_strategy("best_first", max_verifier_restarts=0)
    result = await search_theorem("t", STATEMENT, config=config, backends=backends(verifier, policy))
    assert result.failure_reason == "error" and "lost its states" in result.error


async def test_an_empty_statement_is_an_error_result_naming_the_theorem(verifier):
    result = await search_theorem("blank", "  ", config=SearchConfig(), backends=backends(verifier, ScriptedPolicy()))
    assert result.failure_reason == "error" and "'blank': the statement is empty" in result.error


async def test_a_nan_energy_ranks_as_unscored(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("intro x h", -0.1)], INTRO: [("linarith", -0.1)]})
    scorer = FunctionScorer(lambda s: float("nan"))
    result = await search_theorem("t", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy, scorer))
    assert result.proved
    child = next(n for n in result.tree if n.state_text == INTRO)
    assert child.energy is None and child.ebm_score == -1e6
