"""Result JSON at several budgets and the equal-token comparison, from real search results."""

from __future__ import annotations

import pytest

from prover.engine.comparison import compare
from prover.engine.config import SearchConfig
from prover.engine.evaluation import (
    ResultFileError,
    attempts_of,
    iteration_result,
    load_results,
    median,
    write_results,
)
from prover.engine.inprocess import ScriptedPolicy
from prover.engine.search import search_theorem
from tests.engine.conftest import INTRO, ROOT, STATEMENT, backends


async def _results(verifier):
    # Round 1 reaches INTRO only; round 2 proves from INTRO. A second theorem is never proved.
    policy = ScriptedPolicy(proofs={ROOT: [("intro x h\nring", -1.0)], INTRO: [("linarith", -1.0)]})
    config = SearchConfig.for_strategy("hybrid", max_rounds=5)
    proved = await search_theorem("p", STATEMENT, config=config, backends=backends(verifier, policy))
    unproved = await search_theorem("q", "∀ (y : ℕ), y = y", config=config, backends=backends(verifier, policy))
    return [proved, unproved]


def test_median_averages_the_middle_pair():
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5 and median([]) == 0.0


async def test_budgets_are_read_off_one_search(verifier):
    results = await _results(verifier)
    assert results[0].usage.rounds == 2 and results[0].usage.completions == 2
    common = dict(benchmark="tiny", total_theorems=3, budget_kind="rounds", llm_path="http://x", ebm_path=None,
                  verifier="minilean", strategy="hybrid", config={"max_rounds": 5})
    at1 = iteration_result(results, budget=1, **common)
    at2 = iteration_result(results, budget=2, **common)
    assert (at1["solved"], at2["solved"]) == (0, 1)
    assert at1["total"] == 3 and at1["not_attempted"] == 1 and at2["rate"] == pytest.approx(1 / 3)
    p1 = next(r for r in at1["per_theorem"] if r["name"] == "p")
    assert p1["failure_reason"] == "max_rounds" and p1["tokens_to_proof"] == 20
    q = next(r for r in at2["per_theorem"] if r["name"] == "q")
    assert q["failure_reason"] == "frontier_exhausted" and not q["proved"]
    with pytest.raises(ValueError, match="budget kind"):
        iteration_result(results, budget=1, **{**common, "budget_kind": "seconds"})


async def test_compare_at_equal_tokens_and_file_round_trip(tmp_path, verifier):
    results = await _results(verifier)
    common = dict(benchmark="tiny", total_theorems=2, budget_kind="completions", llm_path="u", ebm_path=None,
                  verifier="minilean", strategy="hybrid", config={})
    a = [iteration_result(results, budget=1, **common)]
    b = [iteration_result(results, budget=2, **common)]
    write_results(tmp_path / "b.json", b)
    b = load_results(tmp_path / "b.json")
    (attempts_a, total_a), (attempts_b, total_b) = attempts_of(a), attempts_of(b)
    assert (total_a, total_b) == (2, 2)
    p_b = next(x for x in attempts_b if x.name == "p")
    assert p_b.proved and p_b.tokens == 20  # a proof costs what was spent when it was found
    at = {t: compare(attempts_a, attempts_b, totals=(2, 2), allowance={"tokens": t}) for t in (19, 20)}
    assert at[20].only_b == ["p"] and at[20].solved_at_allowance["tokens"] == (0, 1)
    assert at[19].solved_at_allowance["tokens"] == (0, 0)
    (tmp_path / "bad.json").write_text('{"results": [{"solved": 1}]}')
    with pytest.raises(ResultFileError, match="results\\[0\\] has no 'total'"):
        load_results(tmp_path / "bad.json")
