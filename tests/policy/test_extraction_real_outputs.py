"""Golden tests on real model outputs (DeepSeek-Prover-V2 and Goedel-Prover-V2 samples for mathd_algebra_59,
mathd_algebra_327 and amc12a_2003_p24, as collected in BurnQED's test suite): the whole split is pinned,
so any change in how a proof is cut shows up here."""

import pytest

from prover.policy.extraction import extract_proof_tactics

REAL_OUTPUTS = [
    pytest.param(
        "theorem mathd_algebra_59 : ∀ (b : ℝ) (F : ℝ → ℝ → ℝ → ℝ → ℝ) (h₀: F = fun a b c d ↦ a ^ b + c ^ d) (h₁ : F 4 b 2 3 = 12), b = 1 := by\n  intro b F h₀ h₁\n  have h₂ : F 4 b 2 3 = (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) := by\n    simp [h₀]\n    <;> ring_nf at *\n    <;> norm_num\n  rw [h₂] at h₁\n  have h₃ : (4 : ℝ) ^ b = 4 := by linarith\n  have h₄ : b = 1 := by\n    nlinarith\n  exact h₄",
        [
            "intro b F h₀ h₁",
            "have h₂ : F 4 b 2 3 = (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ)",
            "simp [h₀] <;> ring_nf at * <;> norm_num",
            "rw [h₂] at h₁",
            "have h₃ : (4 : ℝ) ^ b = 4 := by linarith",
            "have h₄ : b = 1 := by nlinarith",
            "exact h₄",
        ],
        id="goedel_algebra59_pattern_b_chain",
    ),
    pytest.param(
        "theorem mathd_algebra_327 : ∀ (a : ℝ), (1 / 5 * |9 + 2 * a| < 1) ↔ a ∈ Set.Ioo (-7 : ℝ) (-2) := by\n  intro a\n  constructor\n  · intro h\n    constructor\n    · nlinarith [abs_nonneg (9 + 2 * a), abs_le.mp (by nlinarith : |9 + 2 * a| ≤ 5)]\n    · nlinarith [abs_nonneg (9 + 2 * a), abs_le.mp (by nlinarith : |9 + 2 * a| ≤ 5)]\n  · intro h\n    obtain ⟨h₁, h₂⟩ := h\n    rw [abs_lt]\n    constructor\n    · nlinarith\n    · nlinarith",
        [
            "intro a",
            "constructor",
            "intro h",
            "constructor",
            "nlinarith [abs_nonneg (9 + 2 * a), abs_le.mp (by nlinarith : |9 + 2 * a| ≤ 5)]",
            "nlinarith [abs_nonneg (9 + 2 * a), abs_le.mp (by nlinarith : |9 + 2 * a| ≤ 5)]",
            "intro h",
            "obtain ⟨h₁, h₂⟩ := h",
            "rw [abs_lt]",
            "constructor",
            "nlinarith",
            "nlinarith",
        ],
        id="goedel_algebra327_constructor",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp only [h₀] at h₁\n  norm_num at h₁\n  have h₂ : b = 1 := by\n    -- Use the fact that 4^b + 2^3 = 12 to solve for b\n    rcases b with (_ | _ | _ | _ | _ | _ | _ | _ | _ | b) <;>\n    norm_num at h₁ <;>\n    simp_all [pow_succ, pow_zero, pow_one, Nat.pow_succ] <;>\n    ring_nf at h₁ <;>\n    nlinarith\n  exact h₂",
        [
            "intro b F h₀ h₁",
            "simp only [h₀] at h₁",
            "norm_num at h₁",
            "have h₂ : b = 1",
            "rcases b with (_ | _ | _ | _ | _ | _ | _ | _ | _ | b) <;> norm_num at h₁ <;> simp_all [pow_succ, pow_zero, pow_one, Nat.pow_succ] <;> ring_nf at h₁ <;> nlinarith",
            "exact h₂",
        ],
        id="algebra59_have_rcases_chain",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp [h₀] at h₁\n  norm_num at h₁\n  have : (4 : ℝ) ^ b = 4 := by\n    nlinarith [sq_nonneg (b - 1)]\n  have : b = 1 := by\n    apply_fun (fun x => Real.logb 4 x) at this\n    norm_num at this\n    <;> simp_all [Real.logb_eq_zero]\n    <;> norm_num\n    <;> linarith\n  assumption",
        [
            "intro b F h₀ h₁",
            "simp [h₀] at h₁",
            "norm_num at h₁",
            "have : (4 : ℝ) ^ b = 4 := by nlinarith [sq_nonneg (b - 1)]",
            "have : b = 1",
            "apply_fun (fun x => Real.logb 4 x) at this",
            "norm_num at this <;> simp_all [Real.logb_eq_zero] <;> norm_num <;> linarith",
            "assumption",
        ],
        id="algebra59_nested_have",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp_all only [h₀, Function.funext_iff, eq_self_iff_true, forall_const]\n  norm_num at h₁\n  <;>\n  rcases b with (_ | _ | _ | _) <;>\n  simp_all [Nat.pow_succ, Nat.pow_zero, Nat.pow_one] <;>\n  norm_num <;>\n  ring_nf at h₁ ⊢ <;>\n  nlinarith",
        [
            "intro b F h₀ h₁",
            "simp_all only [h₀, Function.funext_iff, eq_self_iff_true, forall_const]",
            "norm_num at h₁ <;> rcases b with (_ | _ | _ | _) <;> simp_all [Nat.pow_succ, Nat.pow_zero, Nat.pow_one] <;> norm_num <;> ring_nf at h₁ ⊢ <;> nlinarith",
        ],
        id="algebra59_dangling_rcases",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  rw [h₀] at h₁\n  norm_num at h₁\n  rcases b with (_ | _ | _ | _) <;> simp_all [pow_one, pow_two, pow_three]\n  all_goals\n    ring_nf at h₁\n    have h₂ := h₁\n    nlinarith\n  <;> exfalso\n  <;> linarith",
        [
            "intro b F h₀ h₁",
            "rw [h₀] at h₁",
            "norm_num at h₁",
            "rcases b with (_ | _ | _ | _) <;> simp_all [pow_one, pow_two, pow_three]",
            "all_goals\n  ring_nf at h₁\n  have h₂ := h₁\n  nlinarith <;> exfalso <;> linarith",
        ],
        id="algebra59_all_goals",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp only [h₀] at h₁\n  norm_num at h₁\n  <;> cases b with\n  | zero => simp_all\n  | succ b' =>\n    cases b' with\n    | zero => simp_all\n    | succ b'' => simp_all [pow_succ]\n  <;> linarith",
        [
            "intro b F h₀ h₁",
            "simp only [h₀] at h₁",
            "norm_num at h₁ <;> cases b with",
            "| zero => simp_all",
            "| succ b' =>\n  cases b' with\n  | zero => simp_all\n  | succ b'' => simp_all [pow_succ] <;> linarith",
        ],
        id="algebra59_cases_match",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp_all only [h₀, Function.funext_iff, eq_self_iff_true, and_self]\n  ring_nf at h₁\n  norm_num at h₁\n  have h₂ : b = 1 := by\n    contrapose! h₁\n    cases' lt_or_gt_of_ne h₁ with h₁ h₁ <;>\n      simp_all [h₀, pow_one, pow_zero, add_zero, zero_add] <;>\n        norm_num <;>\n          nlinarith\n  exact h₂",
        [
            "intro b F h₀ h₁",
            "simp_all only [h₀, Function.funext_iff, eq_self_iff_true, and_self]",
            "ring_nf at h₁",
            "norm_num at h₁",
            "have h₂ : b = 1",
            "contrapose! h₁",
            "cases' lt_or_gt_of_ne h₁ with h₁ h₁ <;> simp_all [h₀, pow_one, pow_zero, add_zero, zero_add] <;> norm_num <;> nlinarith",
            "exact h₂",
        ],
        id="algebra59_contrapose",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  simp_all only [h₀, add_comm]\n  -- We need to show that b = 1 given the equation 4^b + 2^3 = 12\n  have : (4 : ℝ) ^ b + 2 ^ 3 = 12 := by linarith\n  -- We know that 2^3 = 8, so the equation simplifies to 4^b + 8 = 12\n  have : (4 : ℝ) ^ b = 4 := by linarith\n  -- Solving for b, we get 4^b = 4, which implies b = 1\n  have : b = 1 := by\n    -- Since 4^1 = 4, we have b = 1\n    apply_fun fun x => logb 4 x at this\n    -- Simplify the logarithm to find b\n    simp at this\n    linarith\n  linarith",
        [
            "intro b F h₀ h₁",
            "simp_all only [h₀, add_comm]",
            "have : (4 : ℝ) ^ b + 2 ^ 3 = 12 := by linarith",
            "have : (4 : ℝ) ^ b = 4 := by linarith",
            "have : b = 1",
            "apply_fun fun x => logb 4 x at this",
            "simp at this",
            "linarith",
            "linarith",
        ],
        id="algebra59_comments",
    ),
    pytest.param(
        "intro a\n  constructor\n  · intro h\n    have h₁ : |9 + 2 * a| < 5 := by\n      linarith [h]\n    have h₂ : -5 < 9 + 2 * a ∧ 9 + 2 * a < 5 := abs_lt.mp h₁\n    have h₃ : -7 < a ∧ a < -2 := by\n      constructor <;> nlinarith\n    exact ⟨h₃.1, h₃.2⟩\n  · intro h\n    have h₁ : -7 < a ∧ a < -2 := h\n    have h₂ : |9 + 2 * a| < 5 := by\n      rw [abs_lt]\n      constructor <;> nlinarith\n    have h₃ : 1 / 5 * |9 + 2 * a| < 1 := by\n      nlinarith\n    exact h₃",
        [
            "intro a",
            "constructor",
            "intro h",
            "have h₁ : |9 + 2 * a| < 5 := by linarith [h]",
            "have h₂ : -5 < 9 + 2 * a ∧ 9 + 2 * a < 5 := abs_lt.mp h₁",
            "have h₃ : -7 < a ∧ a < -2 := by constructor <;> nlinarith",
            "exact ⟨h₃.1, h₃.2⟩",
            "intro h",
            "have h₁ : -7 < a ∧ a < -2 := h",
            "have h₂ : |9 + 2 * a| < 5",
            "rw [abs_lt]",
            "constructor <;> nlinarith",
            "have h₃ : 1 / 5 * |9 + 2 * a| < 1 := by nlinarith",
            "exact h₃",
        ],
        id="algebra327_bullets",
    ),
    pytest.param(
        "intro a\n  constructor\n  next =>\n    intro h\n    have h₁ : |9 + 2 * a| < 5 := by\n      norm_num at h ⊢\n      linarith\n    have h₂ : -5 < 9 + 2 * a := by\n      cases' abs_cases (9 + 2 * a) with h₃ h₃ <;> linarith\n    have h₃ : 9 + 2 * a < 5 := by\n      cases' abs_cases (9 + 2 * a) with h₄ h₄ <;> linarith\n    constructor <;> linarith\n  next =>\n    rintro ⟨h₁, h₂⟩\n    have h₃ : |9 + 2 * a| < 5 := by\n      rw [abs_lt]\n      constructor <;> nlinarith\n    norm_num at h₃ ⊢\n    linarith",
        [
            "intro a",
            "constructor",
            "next =>\n  intro h\n  have h₁ : |9 + 2 * a| < 5 := by\n    norm_num at h ⊢\n    linarith\n  have h₂ : -5 < 9 + 2 * a := by\n    cases' abs_cases (9 + 2 * a) with h₃ h₃ <;> linarith\n  have h₃ : 9 + 2 * a < 5 := by\n    cases' abs_cases (9 + 2 * a) with h₄ h₄ <;> linarith\n  constructor <;> linarith",
            "next =>\n  rintro ⟨h₁, h₂⟩\n  have h₃ : |9 + 2 * a| < 5 := by\n    rw [abs_lt]\n    constructor <;> nlinarith\n  norm_num at h₃ ⊢\n  linarith",
        ],
        id="algebra327_next",
    ),
    pytest.param(
        "refine' ⟨⟨2, 2, by norm_num, by norm_num, by norm_num [Real.logb_eq_zero]⟩, _⟩\n  rintro y ⟨a, b, hb, hab, rfl⟩\n  have h₁ : 0 < a := by linarith\n  have h₂ : 0 < b := by linarith\n  have h₃ : 0 < Real.log b := Real.log_pos (by linarith)\n  have h₄ : 0 < Real.log a := Real.log_pos (by linarith)\n  field_simp [Real.logb, h₁.ne', h₂.ne', Real.log_mul, Real.log_div, Real.log_pow] at *\n  rw [div_le_iff (by positivity), ← mul_comm]\n  ring_nf\n  nlinarith [sq_nonneg (Real.log a - Real.log b)]",
        [
            "refine' ⟨⟨2, 2, by norm_num, by norm_num, by norm_num [Real.logb_eq_zero]⟩, _⟩",
            "rintro y ⟨a, b, hb, hab, rfl⟩",
            "have h₁ : 0 < a := by linarith",
            "have h₂ : 0 < b := by linarith",
            "have h₃ : 0 < Real.log b := Real.log_pos (by linarith)",
            "have h₄ : 0 < Real.log a := Real.log_pos (by linarith)",
            "field_simp [Real.logb, h₁.ne', h₂.ne', Real.log_mul, Real.log_div, Real.log_pow] at *",
            "rw [div_le_iff (by positivity), ← mul_comm]",
            "ring_nf",
            "nlinarith [sq_nonneg (Real.log a - Real.log b)]",
        ],
        id="amc12a_refine_rintro",
    ),
    pytest.param(
        "constructor\n  · use 1, 2\n    norm_num [Real.logb, Real.log_div]\n    <;>\n    norm_num\n  · rintro y ⟨a, b, hb, hab, rfl⟩\n    have h₁ : Real.logb a (a / b) + Real.logb b (b / a) = 0 := by\n      have h₁ : Real.logb a (a / b) = Real.log a / Real.log a - Real.log b / Real.log a := by\n        rw [Real.logb",
        [
            "constructor",
            "use 1, 2",
            "norm_num [Real.logb, Real.log_div] <;> norm_num",
            "rintro y ⟨a, b, hb, hab, rfl⟩",
            "have h₁ : Real.logb a (a / b) + Real.logb b (b / a) = 0",
            "have h₁ : Real.logb a (a / b) = Real.log a / Real.log a - Real.log b / Real.log a := by rw [Real.logb",
        ],
        id="amc12a_truncated",
    ),
    pytest.param(
        "have step1 : 0 ∈ {y : ℝ | ∃ a b : ℝ, 1 < b ∧ b ≤ a ∧ y = Real.logb a (a / b) + Real.logb b (b / a)} := by\n    use 2, 2\n    norm_num [Real.logb, Real.log_pow]",
        [
            "have step1 : 0 ∈ {y : ℝ | ∃ a b : ℝ, 1 < b ∧ b ≤ a ∧ y = Real.logb a (a / b) + Real.logb b (b / a)}",
            "use 2, 2",
            "norm_num [Real.logb, Real.log_pow]",
        ],
        id="amc12a_set_builder_have",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  have h₂ : F 4 b 2 3 = (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) := by\n    simp only [h₀]\n    <;>\n    simp [Real.rpow_add, Real.rpow_mul, Real.rpow_nat_cast]\n    <;>\n    norm_num\n    <;>\n    ring_nf\n    <;>\n    norm_num\n    <;>\n    linarith\n  have h₃ : (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) = 12 := by\n    linarith\n  have h₄ : (4 : ℝ) ^ b = 8 := by\n    have h₅ : (2 : ℝ) ^ (3 : ℝ) = 8 := by norm_num\n    linarith\n  exact h₅",
        [
            "intro b F h₀ h₁",
            "have h₂ : F 4 b 2 3 = (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ)",
            "simp only [h₀] <;> simp [Real.rpow_add, Real.rpow_mul, Real.rpow_nat_cast] <;> norm_num <;> ring_nf"
            " <;> norm_num <;> linarith",
            "have h₃ : (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) = 12 := by linarith",
            "have h₄ : (4 : ℝ) ^ b = 8",
            "have h₅ : (2 : ℝ) ^ (3 : ℝ) = 8 := by norm_num",
            "linarith",
            "exact h₅",
        ],
        id="goedel_bare_separators",
    ),
    pytest.param(
        "intro b F h₀ h₁\n  have h₂ : F 4 b 2 3 = (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) := by\n    simp [h₀, Real.rpow_def_of_pos, Real.rpow_def_of_nonneg, Real.log_mul, Real.log_rpow, Real.log_pow]\n    <;> ring_nf at *\n    <;> norm_num\n    <;> field_simp [Real.log_mul, Real.log_rpow, Real.log_pow]\n    <;> ring_nf at *\n    <;> norm_num\n    <;> linarith\n  rw [h₂] at h₁\n  have h₃ : (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) = 12 := by linarith\n  have h₄ : (4 : ℝ) ^ b = 12 - (2 : ℝ) ^ (3 : ℝ) := by linarith\n  have h₅ : (4 : ℝ) ^ b = 12 - 8 := by\n    norm_num at h₄ ⊢\n    <;> linarith\n  have h₆ : (4 : ℝ) ^ b = 4 := by\n    norm_num at h₅ ⊢\n    <;> linarith\n  exact h₇",
        [
            "intro b F h₀ h₁",
            "have h₂ : F 4 b 2 3 = (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ)",
            "simp [h₀, Real.rpow_def_of_pos, Real.rpow_def_of_nonneg, Real.log_mul, Real.log_rpow, Real.log_pow] <;> ring_nf at * <;> norm_num <;> field_simp [Real.log_mul, Real.log_rpow, Real.log_pow] <;> ring_nf at * <;> norm_num <;> linarith",
            "rw [h₂] at h₁",
            "have h₃ : (4 : ℝ) ^ b + (2 : ℝ) ^ (3 : ℝ) = 12 := by linarith",
            "have h₄ : (4 : ℝ) ^ b = 12 - (2 : ℝ) ^ (3 : ℝ) := by linarith",
            "have h₅ : (4 : ℝ) ^ b = 12 - 8",
            "norm_num at h₄ ⊢ <;> linarith",
            "have h₆ : (4 : ℝ) ^ b = 4",
            "norm_num at h₅ ⊢ <;> linarith",
            "exact h₇",
        ],
        id="goedel_long_chain",
    ),
]


@pytest.mark.parametrize(("completion", "expected"), REAL_OUTPUTS)
def test_real_output_split(completion: str, expected: list[str]) -> None:
    assert extract_proof_tactics(completion) == expected
