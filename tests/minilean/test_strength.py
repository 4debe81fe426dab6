"""What minilean proves the way real provers write proofs: lemmas in rw/simp/apply/exact, by blocks in terms,
induction, functions with defining hypotheses, big operators, gcd and primes. Every proof is paired with a false
twin (the same proof on a false statement, or a proof Lean rejects) that must be refused, so a test cannot pass
by accepting everything.
"""

from __future__ import annotations

import pytest

from tests.minilean.helpers import proves

CASES = [
    # (statement, proof, false twin statement or None, false twin proof or None)
    ("(a : ℝ) (h : 0 ≤ a - 1) : |a - 1| = a - 1", "rw [abs_of_nonneg h]",
     "(a : ℝ) (h : 0 ≤ a - 1) : |a - 1| = 1 - a", None),
    ("(a b : ℝ) : a * b + 1 = b * a + 1", "rw [mul_comm]", "(a b : ℝ) : a * b + 1 = b * a + 2", None),
    ("(n : ℕ) (h : n % 5 = 3) : 2 * n % 5 = 1", "rw [Nat.mul_mod, h]\n  norm_num", "(n : ℕ) (h : n % 5 = 3) : 2 * n % 5 = 2",
     None),
    ("(x : ℝ) (h : x ^ 2 = 4) (hx : 0 < x) : x = 2", "nlinarith [sq_nonneg (x - 2), sq_nonneg (x + 2)]",
     "(x : ℝ) (h : x ^ 2 = 4) : x = 2", None),
    ("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) : 0 < x * y + x", "apply add_pos\n  · exact mul_pos hx hy\n  · exact hx",
     "(x y : ℝ) (hx : 0 < x) (hy : 0 < y) : 0 < x * y - x", None),
    ("(x : ℝ) (h₀ : 2 * x = 4) : x = 2 ∧ x > 1", "exact ⟨by linarith, by linarith⟩",
     "(x : ℝ) (h₀ : 2 * x = 4) : x = 2 ∧ x > 2", None),
    ("(a b : ℝ) (h : a < b) : a ≤ b", "exact le_of_lt h", "(a b : ℝ) (h : a ≤ b) : a < b", "exact lt_of_le h"),
    ("(n : ℕ) : 2 ^ n ≥ n + 1", "induction n with\n  | zero => simp\n  | succ k ih =>\n    rw [pow_succ]\n    omega",
     "(n : ℕ) : 2 ^ n ≥ n + 2", None),
    ("(n : ℕ) : 2 ^ n ≥ n + 1", "induction' n with k ih\n  · simp\n  · rw [pow_succ]\n    omega", None, None),
    ("(f : ℝ → ℝ) (h₀ : ∀ x, f x = 2 * x + 3) : f 2 = 7", "rw [h₀]\n  norm_num",
     "(f : ℝ → ℝ) (h₀ : ∀ x, f x = 2 * x + 3) : f 2 = 8", None),
    ("(f : ℕ → ℕ) (h₀ : ∀ n, f (n + 1) = f n + 2) (h₁ : f 0 = 1) : f 2 = 5",
     "have a := h₀ 0\n  have b := h₀ 1\n  simp at a b\n  omega",
     "(f : ℕ → ℕ) (h₀ : ∀ n, f (n + 1) = f n + 2) (h₁ : f 0 = 1) : f 2 = 6", None),
    (": ∑ k ∈ Finset.range 5, k = 10", "decide", ": ∑ k ∈ Finset.range 5, k = 11", None),
    (": (∑ k ∈ Finset.Icc 1 12, k) % 4 = 2", "norm_num", ": (∑ k ∈ Finset.Icc 1 12, k) % 4 = 3", None),
    ("(u : ℕ → ℝ) : ∑ k ∈ Finset.range 3, u k = u 0 + u 1 + u 2", "simp [Finset.sum_range_succ]",
     "(u : ℕ → ℝ) : ∑ k ∈ Finset.range 3, u k = u 0 + u 1", None),
    (": Nat.gcd 12 18 = 6", "norm_num", ": Nat.gcd 12 18 = 3", None),
    (": Nat.Prime 97", "norm_num", ": Nat.Prime 91", None),
    ("(n : ℕ) (h : n < 3) (h2 : Nat.Prime n) : n = 2", "interval_cases n <;> norm_num at h2 ⊢",
     "(n : ℕ) (h : n < 4) (h2 : Nat.Prime n) : n = 2", None),
    (": (5 : ℕ) ^ 999999 % 7 = 6", "norm_num", ": (5 : ℕ) ^ 999999 % 7 = 5", None),
    ("(a : ℕ) (h : 0 < a ∧ 0 < a + 1) : 0 < a", "norm_num at h\n  exact h", "(a : ℕ) (h : 0 < a + 1) : 0 < a",
     "norm_num at h\n  exact h"),
    ("(x : ℝ) (y : ℕ) (h : x = 1) (hy : (y : ℝ) = 3) : x + y = 4", "rw [h, hy]\n  norm_num",
     "(x : ℝ) (y : ℕ) (h : x = 1) (hy : (y : ℝ) = 3) : x + y = 5", None),
    ("(a b : ℕ) (h : a ≤ b) : a < b + 1", "exact Nat.lt_succ_iff.mpr h", "(a b : ℕ) (h : a ≤ b + 1) : a < b + 1",
     "exact Nat.lt_succ_iff.mpr h"),
    ("(a : ℝ) (ha2 : a ^ 2 = a + 1) : a ^ 3 = 2 * a + 1",
     "calc\n  a ^ 3 = a ^ 2 * a := by ring\n  _ = (a + 1) * a := by rw [ha2]\n  _ = 2 * a + 1 := by nlinarith [ha2]",
     "(a : ℝ) (ha2 : a ^ 2 = a + 1) : a ^ 3 = 2 * a + 2", None),
    ("(a b : ℝ) (h : a < b) (h2 : b ≤ 3) : a < 3", "calc a < b := h\n    _ ≤ 3 := h2",
     "(a b : ℝ) (h : a < b) (h2 : b ≤ 3) : a < 2", None),
    ("(a : ℕ → ℝ) (h₀ : ∀ n, a (n + 1) = a n + 2) (h₁ : a 0 = 1) : a 2 = 5", "linarith [h₀ 0, h₀ 1]",
     "(a : ℕ → ℝ) (h₀ : ∀ n, a (n + 1) = a n + 2) (h₁ : a 0 = 1) : a 2 = 6", None),
    ("(x : ℝ) (h : 1 < x) : 0 < Real.log x", "exact Real.log_pos h", "(x : ℝ) (h : 0 < x) : 0 < Real.log x",
     "exact Real.log_pos h"),
]


@pytest.mark.parametrize(("statement", "proof", "twin", "twin_proof"), CASES, ids=[c[0][:40] for c in CASES])
def test_real_proof_shapes_replay_and_false_twins_do_not(statement, proof, twin, twin_proof):
    assert proves(statement, proof), f"{proof!r} should prove {statement}"
    if twin is not None:
        assert not proves(twin, twin_proof or proof), f"{twin_proof or proof!r} must not prove {twin}"


def test_rpow_is_not_evaluated_past_what_norm_num_knows():
    # Lean's norm_num has no evaluator for real powers with fractional exponents
    assert not proves(": (4 : ℝ) ^ ((1 : ℝ) / 2) = 2", "norm_num")
    assert proves(": (2 : ℝ) ^ (3 : ℝ) = 8", "norm_num")
