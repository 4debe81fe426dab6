"""The soundness search of `minilean/soundness.py`, bounded for CI: random hypothesis sets and goals over ℕ ℤ ℚ ℝ,
the tactic scripts a prover proposes, and an independent check (z3 with its own encoding, exact evaluation on a
grid) of every goal minilean closes. The long run is `bench/minilean_soundness.py`.
"""

from __future__ import annotations

import random

import pytest

from minilean.soundness import Generator, Problem, grid_counterexample, scripts, search, z3_verdict

NAT, REAL = "ℕ", "ℝ"


@pytest.mark.parametrize("seed", [0, 1])
def test_no_counterexample_to_any_closed_goal(seed):
    report = search(70, seed=seed)
    assert not report.counterexamples, "\n".join(f"{st} := by {sc}  — false at {cx}"
                                                 for st, sc, cx in report.counterexamples)
    # the search must exercise minilean: goals are closed, and (almost) all of them are decided by z3
    assert report.closed >= 20
    assert report.proved_true >= 0.8 * report.closed


def test_extra_scripts_run_on_every_problem_and_what_they_close_is_checked():
    # how a trained policy's own tactics are fuzzed: they join the generated scripts on every problem
    plain = search(12, seed=3, scripts_per_problem=2)
    extra = search(12, seed=3, scripts_per_problem=2, extra_scripts=["nlinarith", "norm_num"])
    assert extra.scripts == plain.scripts + 2 * extra.problems
    assert extra.closed > plain.closed and not extra.counterexamples
    assert extra.proved_true + extra.grid_only == extra.closed


def test_the_oracle_finds_the_audit_counterexamples():
    # the oracle sees that the false claims of the audit are false, so it would have caught those holes
    x = ("var", "x", REAL)
    two_x = ("*", ("num", 2, REAL), x, REAL)
    claim = Problem({"x": REAL}, [("cmp", "<", ("num", 0, REAL), x)],
                    ("cmp", "=", ("/", ("num", 1, REAL), two_x, REAL), ("/", ("num", 2, REAL), x, REAL)))
    verdict, point = z3_verdict(claim, 2000)
    assert verdict == "false" and point["x"] > 0
    nat = Problem({"x": NAT}, [], ("cmp", "=", ("-", ("num", 2, NAT), ("num", 3, NAT), NAT), ("num", 0, NAT)))
    assert z3_verdict(nat, 2000)[0] == "true"
    assert grid_counterexample(Problem({"x": NAT}, [], ("cmp", "<", ("var", "x", NAT), ("num", 3, NAT)))) == {"x": 3}


def test_generated_statements_are_in_minilean_fragment():
    """Most generated statements must elaborate, or the search would test nothing."""
    from minilean.frontend import check_declaration

    rng = random.Random(5)
    gen = Generator(rng)
    elaborated = 0
    for _ in range(60):
        problem = gen.problem()
        messages, _, _ = check_declaration(f"theorem t {problem.statement()} := by\n  skip")
        elaborated += all("unsolved goals" in m for sev, m, _ in messages if sev == "error")
        assert scripts(problem, rng, 5)
    assert elaborated >= 55
