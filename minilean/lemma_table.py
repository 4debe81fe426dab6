"""The Mathlib lemmas minilean knows, each with the statement Mathlib gives it, written in Lean syntax.

A statement is `binders : conclusion`: `{…}` binders are implicit, `(…)` explicit, as in Mathlib. `α` is the
type variable; `types` lists the types among ℕ ℤ ℚ ℝ that Mathlib's typeclass assumptions admit for it (for
instance `abs` needs negation, so no ℕ; field lemmas need ℚ or ℝ). Lemmas about one type name it instead.
Every statement is checked by its own soundness test (tests/minilean/test_lemma_table.py): it must hold at every
point of a grid where its hypotheses hold, with Lean's operations. docs/minilean-lean-facts.md (lemma table).

The names are those of the Mathlib versions the bundled proofs were written for (Lean 4.9 to 4.15); where a
statement changed between versions (`pow_succ`), the newer one is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL, RINGS, FIELDS = "ℕℤℚℝ", "ℤℚℝ", "ℚℝ"


@dataclass(frozen=True)
class Lemma:
    name: str
    statement: str
    types: str = ALL
    simp: bool = False  # in Mathlib's default simp set


LEMMAS: tuple[Lemma, ...] = (
    # ---------------------------------------------------------------------------------- squares and signs
    Lemma("sq_nonneg", "(a : α) : 0 ≤ a ^ 2", RINGS),
    Lemma("pow_two_nonneg", "(a : α) : 0 ≤ a ^ 2", RINGS),
    Lemma("mul_self_nonneg", "(a : α) : 0 ≤ a * a", RINGS),
    Lemma("sq_abs", "(a : α) : |a| ^ 2 = a ^ 2", RINGS, simp=True),
    Lemma("abs_mul_abs_self", "(a : α) : |a| * |a| = a * a", RINGS, simp=True),
    Lemma("abs_mul_self", "(a : α) : |a * a| = a * a", RINGS, simp=True),
    Lemma("abs_nonneg", "(a : α) : 0 ≤ |a|", RINGS, simp=True),
    Lemma("abs_pos", "{a : α} : 0 < |a| ↔ a ≠ 0", RINGS, simp=True),
    Lemma("mul_pos", "{a b : α} (ha : 0 < a) (hb : 0 < b) : 0 < a * b"),
    Lemma("mul_nonneg", "{a b : α} (ha : 0 ≤ a) (hb : 0 ≤ b) : 0 ≤ a * b"),
    Lemma("mul_pos_of_neg_of_neg", "{a b : α} (ha : a < 0) (hb : b < 0) : 0 < a * b", RINGS),
    Lemma("add_pos", "{a b : α} (ha : 0 < a) (hb : 0 < b) : 0 < a + b"),
    Lemma("add_nonneg", "{a b : α} (ha : 0 ≤ a) (hb : 0 ≤ b) : 0 ≤ a + b"),
    Lemma("div_pos", "{a b : α} (ha : 0 < a) (hb : 0 < b) : 0 < a / b", FIELDS),
    Lemma("div_nonneg", "{a b : α} (ha : 0 ≤ a) (hb : 0 ≤ b) : 0 ≤ a / b", FIELDS),
    Lemma("pow_pos", "{a : α} (H : 0 < a) (n : ℕ) : 0 < a ^ n"),
    Lemma("pow_nonneg", "{a : α} (H : 0 ≤ a) (n : ℕ) : 0 ≤ a ^ n"),
    Lemma("sq_pos_of_pos", "{a : α} (ha : 0 < a) : 0 < a ^ 2"),
    Lemma("pow_le_pow_left", "{a b : α} (ha : 0 ≤ a) (hab : a ≤ b) (n : ℕ) : a ^ n ≤ b ^ n"),
    Lemma("mul_le_mul_of_nonneg_left", "{a b c : α} (h : b ≤ c) (hc : 0 ≤ a) : a * b ≤ a * c"),
    Lemma("mul_le_mul_of_nonneg_right", "{a b c : α} (h : b ≤ c) (hc : 0 ≤ a) : b * a ≤ c * a"),
    Lemma("mul_lt_mul_of_pos_left", "{a b c : α} (h : b < c) (hc : 0 < a) : a * b < a * c"),
    Lemma("mul_lt_mul_of_pos_right", "{a b c : α} (h : b < c) (hc : 0 < a) : b * a < c * a"),
    # ---------------------------------------------------------------------------------- order
    Lemma("le_refl", "(a : α) : a ≤ a"),
    Lemma("le_rfl", "{a : α} : a ≤ a"),
    Lemma("le_of_lt", "{a b : α} (h : a < b) : a ≤ b"),
    Lemma("le_of_eq", "{a b : α} (h : a = b) : a ≤ b"),
    Lemma("ne_of_gt", "{a b : α} (h : a > b) : a ≠ b"),
    Lemma("ne_of_lt", "{a b : α} (h : a < b) : a ≠ b"),
    Lemma("le_trans", "{a b c : α} (h₁ : a ≤ b) (h₂ : b ≤ c) : a ≤ c"),
    Lemma("lt_trans", "{a b c : α} (h₁ : a < b) (h₂ : b < c) : a < c"),
    Lemma("lt_of_le_of_lt", "{a b c : α} (h₁ : a ≤ b) (h₂ : b < c) : a < c"),
    Lemma("lt_of_lt_of_le", "{a b c : α} (h₁ : a < b) (h₂ : b ≤ c) : a < c"),
    Lemma("le_antisymm", "{a b : α} (h₁ : a ≤ b) (h₂ : b ≤ a) : a = b"),
    Lemma("le_total", "(a b : α) : a ≤ b ∨ b ≤ a"),
    Lemma("le_or_lt", "(a b : α) : a ≤ b ∨ b < a"),
    Lemma("lt_or_le", "(a b : α) : a < b ∨ b ≤ a"),
    Lemma("lt_trichotomy", "(a b : α) : a < b ∨ a = b ∨ b < a"),
    Lemma("not_lt", "{a b : α} : ¬a < b ↔ b ≤ a", simp=True),
    Lemma("not_le", "{a b : α} : ¬a ≤ b ↔ b < a", simp=True),
    Lemma("sub_nonneg", "{a b : α} : 0 ≤ a - b ↔ b ≤ a", RINGS, simp=True),
    Lemma("sub_pos", "{a b : α} : 0 < a - b ↔ b < a", RINGS, simp=True),
    Lemma("sub_nonpos", "{a b : α} : a - b ≤ 0 ↔ a ≤ b", RINGS, simp=True),
    Lemma("sub_neg", "{a b : α} : a - b < 0 ↔ a < b", RINGS, simp=True),
    Lemma("sub_eq_zero", "{a b : α} : a - b = 0 ↔ a = b", RINGS, simp=True),
    Lemma("eq_comm", "{a b : α} : a = b ↔ b = a"),
    Lemma("Nat.zero_le", "(n : ℕ) : 0 ≤ n", simp=True),
    Lemma("Nat.pos_of_ne_zero", "{n : ℕ} (h : n ≠ 0) : 0 < n"),
    Lemma("Nat.le_of_lt_succ", "{m n : ℕ} (h : m < n + 1) : m ≤ n"),
    Lemma("Nat.lt_succ_iff", "{m n : ℕ} : m < n + 1 ↔ m ≤ n"),
    Lemma("Nat.succ_le_iff", "{m n : ℕ} : m + 1 ≤ n ↔ m < n"),
    Lemma("Nat.le_of_dvd", "{m n : ℕ} (h1 : 0 < n) (h2 : m ∣ n) : m ≤ n"),
    # ---------------------------------------------------------------------------------- absolute value
    Lemma("abs_of_nonneg", "{a : α} (h : 0 ≤ a) : |a| = a", RINGS),
    Lemma("abs_of_pos", "{a : α} (h : 0 < a) : |a| = a", RINGS),
    Lemma("abs_of_nonpos", "{a : α} (h : a ≤ 0) : |a| = -a", RINGS),
    Lemma("abs_of_neg", "{a : α} (h : a < 0) : |a| = -a", RINGS),
    Lemma("abs_le", "{a b : α} : |a| ≤ b ↔ -b ≤ a ∧ a ≤ b", RINGS),
    Lemma("abs_lt", "{a b : α} : |a| < b ↔ -b < a ∧ a < b", RINGS),
    Lemma("abs_sub_comm", "(a b : α) : |a - b| = |b - a|", RINGS),
    Lemma("abs_mul", "(a b : α) : |a * b| = |a| * |b|", RINGS, simp=True),
    Lemma("abs_neg", "(a : α) : |-a| = |a|", RINGS, simp=True),
    Lemma("abs_add", "(a b : α) : |a + b| ≤ |a| + |b|", RINGS),
    Lemma("abs_sub_abs_le_abs_sub", "(a b : α) : |a| - |b| ≤ |a - b|", RINGS),
    Lemma("le_abs_self", "(a : α) : a ≤ |a|", RINGS),
    Lemma("neg_abs_le", "(a : α) : -|a| ≤ a", RINGS),
    Lemma("abs_cases", "(a : α) : |a| = a ∧ 0 ≤ a ∨ |a| = -a ∧ a < 0", RINGS),
    # ---------------------------------------------------------------------------------- ring identities
    Lemma("mul_comm", "(a b : α) : a * b = b * a"),
    Lemma("add_comm", "(a b : α) : a + b = b + a"),
    Lemma("mul_assoc", "(a b c : α) : a * b * c = a * (b * c)"),
    Lemma("add_assoc", "(a b c : α) : a + b + c = a + (b + c)"),
    Lemma("mul_left_comm", "(a b c : α) : a * (b * c) = b * (a * c)"),
    Lemma("add_left_comm", "(a b c : α) : a + (b + c) = b + (a + c)"),
    Lemma("mul_right_comm", "(a b c : α) : a * b * c = a * c * b"),
    Lemma("add_right_comm", "(a b c : α) : a + b + c = a + c + b"),
    Lemma("mul_add", "(a b c : α) : a * (b + c) = a * b + a * c"),
    Lemma("add_mul", "(a b c : α) : (a + b) * c = a * c + b * c"),
    Lemma("mul_sub", "(a b c : α) : a * (b - c) = a * b - a * c", RINGS),
    Lemma("sub_mul", "(a b c : α) : (a - b) * c = a * c - b * c", RINGS),
    Lemma("mul_one", "(a : α) : a * 1 = a", simp=True),
    Lemma("one_mul", "(a : α) : 1 * a = a", simp=True),
    Lemma("mul_zero", "(a : α) : a * 0 = 0", simp=True),
    Lemma("zero_mul", "(a : α) : 0 * a = 0", simp=True),
    Lemma("add_zero", "(a : α) : a + 0 = a", simp=True),
    Lemma("zero_add", "(a : α) : 0 + a = a", simp=True),
    Lemma("sub_self", "(a : α) : a - a = 0", simp=True),
    Lemma("sub_zero", "(a : α) : a - 0 = a", simp=True),
    Lemma("zero_sub", "(a : α) : 0 - a = -a", RINGS, simp=True),
    Lemma("neg_neg", "(a : α) : - -a = a", RINGS, simp=True),
    Lemma("neg_mul", "(a b : α) : -a * b = -(a * b)", RINGS, simp=True),
    Lemma("mul_neg", "(a b : α) : a * -b = -(a * b)", RINGS, simp=True),
    Lemma("neg_add", "(a b : α) : -(a + b) = -a + -b", RINGS),
    Lemma("neg_sub", "(a b : α) : -(a - b) = b - a", RINGS, simp=True),
    Lemma("sub_neg_eq_add", "(a b : α) : a - -b = a + b", RINGS, simp=True),
    Lemma("sub_eq_add_neg", "(a b : α) : a - b = a + -b", RINGS),
    Lemma("sub_sub", "(a b c : α) : a - b - c = a - (b + c)", RINGS),
    Lemma("two_mul", "(a : α) : 2 * a = a + a"),
    Lemma("pow_two", "(a : α) : a ^ 2 = a * a"),
    Lemma("sq", "(a : α) : a ^ 2 = a * a"),
    Lemma("pow_three", "(a : α) : a ^ 3 = a * (a * a)"),
    Lemma("pow_succ", "(a : α) (n : ℕ) : a ^ (n + 1) = a ^ n * a"),
    Lemma("pow_zero", "(a : α) : a ^ 0 = 1", simp=True),
    Lemma("pow_one", "(a : α) : a ^ 1 = a", simp=True),
    Lemma("one_pow", "(n : ℕ) : (1 : α) ^ n = 1", simp=True),
    Lemma("pow_add", "(a : α) (m n : ℕ) : a ^ (m + n) = a ^ m * a ^ n"),
    Lemma("pow_mul", "(a : α) (m n : ℕ) : a ^ (m * n) = (a ^ m) ^ n"),
    Lemma("mul_pow", "(a b : α) (n : ℕ) : (a * b) ^ n = a ^ n * b ^ n"),
    Lemma("add_sq", "(a b : α) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2"),
    Lemma("add_pow_two", "(a b : α) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2"),
    Lemma("sub_sq", "(a b : α) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2", RINGS),
    Lemma("mul_eq_zero", "{a b : α} : a * b = 0 ↔ a = 0 ∨ b = 0", simp=True),
    Lemma("mul_self_eq_zero", "{a : α} : a * a = 0 ↔ a = 0", simp=True),
    # ---------------------------------------------------------------------------------- fields
    Lemma("div_add_div", "(a : α) (c : α) {b d : α} (hb : b ≠ 0) (hd : d ≠ 0) : "
          "a / b + c / d = (a * d + b * c) / (b * d)", FIELDS),
    Lemma("div_eq_iff", "{a b c : α} (hc : c ≠ 0) : a / c = b ↔ a = b * c", FIELDS),
    Lemma("eq_div_iff", "{a b c : α} (hc : c ≠ 0) : a = b / c ↔ a * c = b", FIELDS),
    Lemma("div_le_iff", "{a b c : α} (hc : 0 < c) : a / c ≤ b ↔ a ≤ b * c", FIELDS),
    Lemma("le_div_iff", "{a b c : α} (hc : 0 < c) : a ≤ b / c ↔ a * c ≤ b", FIELDS),
    Lemma("div_lt_iff", "{a b c : α} (hc : 0 < c) : a / c < b ↔ a < b * c", FIELDS),
    Lemma("lt_div_iff", "{a b c : α} (hc : 0 < c) : a < b / c ↔ a * c < b", FIELDS),
    Lemma("mul_div_assoc", "(a b c : α) : a * b / c = a * (b / c)", FIELDS),
    Lemma("div_self", "{a : α} (h : a ≠ 0) : a / a = 1", FIELDS),
    Lemma("mul_div_cancel_left₀", "(b : α) {a : α} (ha : a ≠ 0) : a * b / a = b", FIELDS),
    # ---------------------------------------------------------------------------------- square roots
    Lemma("Real.sqrt_nonneg", "(x : ℝ) : 0 ≤ √x"),
    Lemma("Real.sq_sqrt", "{x : ℝ} (h : 0 ≤ x) : √x ^ 2 = x"),
    Lemma("Real.sqrt_sq", "{x : ℝ} (h : 0 ≤ x) : √(x ^ 2) = x"),
    Lemma("Real.mul_self_sqrt", "{x : ℝ} (h : 0 ≤ x) : √x * √x = x"),
    Lemma("Real.sqrt_mul_self", "{x : ℝ} (h : 0 ≤ x) : √(x * x) = x"),
    Lemma("Real.sqrt_pos", "{x : ℝ} : 0 < √x ↔ 0 < x", simp=True),
    Lemma("Real.sqrt_lt_sqrt", "{x y : ℝ} (hx : 0 ≤ x) (h : x < y) : √x < √y"),
    Lemma("Real.sqrt_le_sqrt", "{x y : ℝ} (h : x ≤ y) : √x ≤ √y"),
    Lemma("Real.sqrt_mul", "{x : ℝ} (hx : 0 ≤ x) (y : ℝ) : √(x * y) = √x * √y"),
    # ---------------------------------------------------------------------------------- ℕ and ℤ division
    Lemma("Nat.mod_eq_of_lt", "{a b : ℕ} (h : a < b) : a % b = a"),
    Lemma("Nat.mul_mod", "(a b n : ℕ) : a * b % n = a % n * (b % n) % n"),
    Lemma("Nat.add_mod", "(a b n : ℕ) : (a + b) % n = (a % n + b % n) % n"),
    Lemma("Nat.pow_mod", "(a b n : ℕ) : a ^ b % n = (a % n) ^ b % n"),
    Lemma("Nat.mod_mod", "(a n : ℕ) : a % n % n = a % n", simp=True),
    Lemma("Nat.mod_add_div", "(m k : ℕ) : m % k + k * (m / k) = m"),
    Lemma("Nat.div_add_mod", "(m k : ℕ) : k * (m / k) + m % k = m"),
    Lemma("Nat.mod_self", "(n : ℕ) : n % n = 0", simp=True),
    Lemma("Nat.mod_lt", "(x : ℕ) {y : ℕ} (h : y > 0) : x % y < y"),
    Lemma("Int.mul_emod", "(a b n : ℤ) : a * b % n = a % n * (b % n) % n"),
    Lemma("Int.add_emod", "(a b n : ℤ) : (a + b) % n = (a % n + b % n) % n"),
    Lemma("Int.sub_emod", "(a b n : ℤ) : (a - b) % n = (a % n - b % n) % n"),
    Lemma("Int.emod_emod_of_dvd", "(n : ℤ) {m k : ℤ} (h : m ∣ k) : n % k % m = n % m"),
    Lemma("Int.add_mul_emod_self", "{a b c : ℤ} : (a + b * c) % c = a % c", simp=True),
    Lemma("Int.add_mul_emod_self_left", "(a b c : ℤ) : (a + b * c) % b = a % b", simp=True),
    # ---------------------------------------------------------------------------------- logic
    Lemma("Eq.symm", "{a b : α} (h : a = b) : b = a"),
    Lemma("Eq.trans", "{a b c : α} (h₁ : a = b) (h₂ : b = c) : a = c"),
    Lemma("Or.inl", "{a b : Prop} (h : a) : a ∨ b", ""),
    Lemma("Or.inr", "{a b : Prop} (h : b) : a ∨ b", ""),
    Lemma("And.intro", "{a b : Prop} (left : a) (right : b) : a ∧ b", ""),
    Lemma("absurd", "{a b : Prop} (h₁ : a) (h₂ : ¬a) : b", ""),
    Lemma("False.elim", "{c : Prop} (h : False) : c", ""),
    Lemma("Iff.intro", "{a b : Prop} (mp : a → b) (mpr : b → a) : a ↔ b", ""),
)
