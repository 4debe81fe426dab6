"""Rules of the proofs' older Lean/Mathlib toolchains (docs/minilean-lean-facts.md, versions)."""

from __future__ import annotations

from minilean.frontend import check_declaration


def proves(statement: str, proof: str, mathlib: int) -> bool:
    messages, _, used_sorry = check_declaration(f"theorem t {statement} := by\n  {proof}", mathlib=mathlib)
    return not used_sorry and not any(sev == "error" for sev, _, _ in messages)


def test_2023_rw_closes_nat_literal_arithmetic():
    assert proves("(n : ℕ) (h₀ : n % 5 = 3) : 2 * n % 5 = 1", "rw [Nat.mul_mod, h₀]", mathlib=2023)
    assert not proves("(n : ℕ) (h₀ : n % 5 = 3) : 2 * n % 5 = 1", "rw [Nat.mul_mod, h₀]", mathlib=2025)


def test_2023_rw_leaves_integer_arithmetic_and_powers_open():
    # real LeanDojo proofs need a tactic after such a rw: its rfl did not evaluate ℤ arithmetic or ℕ powers
    assert not proves("(x : ℤ) (h₀ : x = 4) : (3 * x - 2) * (4 * x + 1) = 170", "rw [h₀]", mathlib=2023)
    assert proves("(x : ℤ) (h₀ : x = 4) : (3 * x - 2) * (4 * x + 1) = 170", "rw [h₀]\n  norm_num", mathlib=2023)
    assert not proves("(n : ℕ) (h₀ : n = 11) : 2 ^ (2 * n) = 4194304", "rw [h₀]", mathlib=2023)


def test_2023_rw_does_not_close_a_false_equation():
    assert not proves("(n : ℕ) (h₀ : n % 5 = 3) : 2 * n % 5 = 2", "rw [Nat.mul_mod, h₀]", mathlib=2023)


def test_2024_field_simp_combines_each_side_of_an_inequality_without_cross_multiplying():
    # Mathlib's simp-based field_simp (before its 2025 rewrite) does not cancel denominators in ≤ / <; real
    # proofs of that era follow it with `rw [div_le_div_iff ...]`, whose pattern needs the fractions
    assert proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) (h : y ≤ 2 * x) : 1 / x + 1 / y ≤ 3 / y",
                  "field_simp\n  rw [div_le_div_iff (by positivity) (by positivity)]\n  nlinarith", mathlib=2024)
    assert proves("(a b : ℝ) (ha : 0 < a) (hb : 0 < b) (h : a ≤ b) : a ≤ b + b ^ 2 / a - b",
                  "field_simp\n  rw [le_div_iff (by positivity)]\n  nlinarith", mathlib=2024)
    assert not proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) (h : y ≤ 2 * x) : 1 / x + 1 / y ≤ 3 / y",
                      "field_simp\n  nlinarith", mathlib=2024)


def test_2025_field_simp_cross_multiplies_positive_denominators():
    assert proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) (h : y ≤ 2 * x) : 1 / x + 1 / y ≤ 3 / y",
                  "field_simp\n  nlinarith", mathlib=2025)
    assert not proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) (h : y ≤ 2 * x) : 1 / x + 1 / y ≤ 3 / y",
                      "field_simp\n  rw [div_le_div_iff (by positivity) (by positivity)]\n  nlinarith", mathlib=2025)


def test_2024_field_simp_keeps_a_false_inequality_false():
    for proof in ("field_simp", "field_simp\n  rw [div_le_div_iff (by positivity) (by positivity)]\n  nlinarith",
                  "field_simp\n  nlinarith", "field_simp\n  positivity"):
        assert not proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) : 1 / x + 1 / y ≤ 2 / y", proof, mathlib=2024)


def test_the_pre_2025_field_simp_rule_is_counted_as_an_era_rule():
    from minilean.elab import Elaborator
    from minilean.goals import Goal
    from minilean.parser import parse_term
    from minilean.tactics import Context, parse_script, run_seq

    goal = Goal(Elaborator().prop(parse_term("∀ (x y : ℝ), 0 < x → 0 < y → 1 / x + 1 / y ≤ 3 / y")))
    ctx = Context(mathlib=2024)
    run_seq(parse_script("intro x y hx hy\nfield_simp"), [goal], ctx)
    assert ctx.era_rule_used
    ctx = Context(mathlib=2025)
    run_seq(parse_script("intro x y hx hy\nfield_simp"), [goal], ctx)
    assert not ctx.era_rule_used
