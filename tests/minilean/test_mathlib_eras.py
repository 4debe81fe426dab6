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
