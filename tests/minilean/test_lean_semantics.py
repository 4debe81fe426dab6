"""Lean 4 + Mathlib semantics where they differ from school maths (docs/minilean-lean-facts.md, operations), checked through
the decision tactics: the true statement is closed, its school-maths twin is refused."""

from __future__ import annotations

import pytest

from minilean.frontend import check_declaration


def proves(statement: str, tactic: str) -> bool:
    messages, _, used_sorry = check_declaration(f"theorem t {statement} := by\n  {tactic}")
    return not used_sorry and not any(sev == "error" for sev, _, _ in messages)


CASES = [
    # (true in Lean, false twin)
    ("(5 : ℕ) - 7 = 0", "(5 : ℕ) - 7 + 7 = 5"),
    ("(2 : ℕ) - 3 + 5 = 5", "(2 : ℕ) - 3 + 5 = 4"),
    ("(10 : ℕ) / 0 = 0", "(10 : ℕ) / 0 = 10"),
    ("(10 : ℤ) / 0 = 0", "(10 : ℤ) / 0 = 1"),
    ("(10 : ℚ) / 0 = 0", "(10 : ℚ) / 0 = 1"),
    ("(1 : ℝ) / 0 = 0", "(1 : ℝ) / 0 = 1"),
    ("(10 : ℕ) % 0 = 10", "(10 : ℕ) % 0 = 0"),
    ("(5 / 2 : ℕ) = 2", "(5 / 2 : ℕ) = 3"),
    ("(-7 : ℤ) / 2 = -4", "(-7 : ℤ) / 2 = -3"),
    ("(-7 : ℤ) % 2 = 1", "(-7 : ℤ) % 2 = -1"),
    ("(7 : ℤ) / (-2) = -3", "(7 : ℤ) / (-2) = -4"),
    ("(7 : ℤ) % (-2) = 1", "(7 : ℤ) % (-2) = -1"),
    ("(-7 : ℤ) / (-2) = 4", "(-7 : ℤ) / (-2) = 3"),
    ("(-1 : ℤ) % 11 = 10", "(-1 : ℤ) % 11 = -1"),
    ("((7 : ℕ) / 2 : ℝ) = 7 / 2", "((7 : ℕ) / 2 : ℝ) = 3"),
    ("(((7 : ℕ) / 2 : ℕ) : ℝ) = 3", "(((7 : ℕ) / 2 : ℕ) : ℝ) = 7 / 2"),
    ("(0 : ℕ) ^ 0 = 1", "(0 : ℕ) ^ 0 = 0"),
    ("(0 : ℝ) ^ 0 = 1", "(0 : ℝ) ^ 0 = 0"),
    ("(5 ^ 30) % 7 = 1", "(5 ^ 30) % 7 = 2"),
    ("(2 : ℝ) ^ (1 / 3) = 1", "(8 : ℝ) ^ (1 / 3) = 2"),
]


@pytest.mark.parametrize(("true_claim", "false_claim"), CASES)
def test_norm_num_follows_lean(true_claim, false_claim):
    assert proves(f": {true_claim}", "norm_num")
    assert not proves(f": {false_claim}", "norm_num")


@pytest.mark.parametrize(("true_claim", "false_claim"), [c for c in CASES if "ℝ" not in c[0] and "ℚ" not in c[0]])
def test_decide_follows_lean(true_claim, false_claim):
    assert proves(f": {true_claim}", "decide")
    assert not proves(f": {false_claim}", "decide")


def test_decide_refuses_reals_and_free_variables():
    assert not proves(": (2 : ℝ) + 2 = 4", "decide")
    assert not proves("(n : ℕ) (h : n = 2) : n + 1 = 3", "decide")


def test_nat_subtraction_truncates_for_omega_and_linarith():
    assert proves("(a b : ℕ) (h : a ≤ b) : a - b = 0", "omega")
    assert not proves("(a b : ℕ) : a - b + b = a", "omega")
    assert proves("(a : ℕ) (h : a > 0) : (a - 1) + 1 = a", "omega")
    assert not proves("(a : ℕ) (h : a > 0) : (a - 1) + 1 = a", "linarith")  # as in Mathlib's tests
    assert proves("(a b : ℕ) (h : b < a) : ((a - b : ℕ) : ℤ) > 0", "omega")


def test_integer_division_in_omega():
    assert proves("(a b : ℕ) (h : a / 2 < b) : a < 2 * b", "omega")
    assert proves("(x : ℤ) : x % 2 = 0 ∨ x % 2 = 1", "omega")
    assert not proves("(x : ℤ) : x % 2 = 0 ∨ x % 2 = -1", "omega")
    assert proves("(x : ℤ) : x / 0 = 0", "omega")


def test_casts_keep_values():
    assert proves("(n : ℕ) (h : (n : ℝ) = 3) : n = 3", "exact_mod_cast h")
    assert proves("(a b : ℕ) (h : (a : ℤ) < b) : a < b", "exact_mod_cast h")
    assert not proves("(a b : ℕ) (h : (a : ℤ) < b) : b < a", "exact_mod_cast h")
    assert proves("(n : ℕ) : (n : ℝ) ≥ 0", "positivity")
    assert proves("(n : ℕ) : ((n + 1 : ℕ) : ℝ) = (n : ℝ) + 1", "push_cast\n  ring")


def test_natural_exponents():
    assert proves("(x : ℝ) : x ^ 2 ≥ 0", "positivity")
    assert proves("(x : ℝ) : x ^ 3 = x * x * x", "ring")
    assert not proves("(x : ℝ) : x ^ 3 = x * x", "ring")
    assert proves(": (3 : ℤ) ^ 4 = 81", "norm_num")


def test_sqrt_of_negative_is_zero():
    assert proves(": Real.sqrt (-4) = 0", "norm_num")
    assert proves(": Real.sqrt 16 = 4", "norm_num")
    assert not proves(": Real.sqrt 16 = -4", "norm_num")
