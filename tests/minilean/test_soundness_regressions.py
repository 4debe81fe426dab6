"""The soundness holes an audit of minilean found (issue 10), each kept as a test: a false goal must stay open.

Every case states a goal that is false in Lean (a counterexample is named in the comment) or a proof that Lean
rejects, and checks that minilean does not accept it; where the same tactic proves the true twin, that is
checked too, so a test cannot pass by refusing everything.
"""

from __future__ import annotations

import pytest

from minilean.elab import ElabError, Elaborator
from minilean.parser import parse_term
from minilean.terms import REAL, Quant
from tests.minilean.helpers import proves


# ------------------------------------------------------------------------------------------- field_simp
@pytest.mark.parametrize("proof", ["field_simp", "field_simp\n  linarith", "field_simp\n  ring",
                                   "field_simp\n  nlinarith"])
def test_field_simp_keeps_denominator_coefficients(proof):
    # false at x = 1: 1/2 ≠ 2
    assert not proves(": ∀ (x : ℝ), 0 < x → 1 / (2 * x) = 2 / x", "intro x hx\n  " + proof)
    # false at x = 1: 1/3 ≠ 1
    assert not proves("(x : ℝ) (hx : 0 < x) : 1 / (3 * x) = 1 / x", proof)


def test_field_simp_still_proves_true_identities():
    assert proves(": ∀ (x : ℝ), 0 < x → 1 / (2 * x) = (1 / 2) / x", "intro x hx\n  field_simp")
    assert proves("(x : ℝ) (hx : x ≠ 0) : 2 / (3 * x) * x = 2 / 3", "field_simp")
    assert proves("(a b : ℝ) (ha : a ≠ 0) (hb : b ≠ 0) : 1 / a + 1 / b = (a + b) / (a * b)", "field_simp")
    assert proves("(x : ℝ) (hx : x ≠ 0) (h : x ^ 2 = 2) : 2 / x = x", "field_simp\n  linarith")
    assert proves("(x : ℝ) (hx : 0 < x) (h : x ^ 2 < 2) : x < 2 / x", "field_simp\n  linarith")


# ------------------------------------------------------------------------------------------- hint terms
@pytest.mark.parametrize("nat_or_int", ["ℕ", "ℤ"])
@pytest.mark.parametrize("proof", ["nlinarith [mul_pos hx hy]", "have h := mul_pos hx hy\n  nlinarith",
                                   "linarith [mul_pos hx hy]", "have h : 0 < x * y := mul_pos hx hy\n  nlinarith"])
def test_ill_typed_hint_terms_are_refused(nat_or_int, proof):
    # satisfiable at x = 1, y = 1/4; Lean rejects `mul_pos hx hy` because hx and hy are about different types
    statement = f"(x : {nat_or_int}) (y : ℝ) (hx : 0 < x) (hy : 0 < y) (h1 : y ≤ 1/4) (h2 : x = 1) : False"
    assert not proves(statement, proof)


def test_well_typed_hints_still_work():
    assert proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) : 0 < x * y + x", "nlinarith [mul_pos hx hy]")
    assert proves("(x y : ℝ) (hx : 0 < x) (hy : 0 < y) : 0 < x * y", "have h := mul_pos hx hy\n  linarith")
    # numerals in a lemma argument take the type the lemma's statement gives them
    assert proves(": 0 ≤ Real.sqrt 2", "nlinarith [Real.sqrt_nonneg 2]")


def test_hint_with_explicit_coercion_is_accepted():
    # ↑x * y is well-typed: the coercion is written, as Lean would need it
    assert proves("(x : ℕ) (y : ℝ) (hx : 0 < (x : ℝ)) (hy : 0 < y) : 0 < (x : ℝ) * y", "exact mul_pos hx hy")


# ------------------------------------------------------------------------------------------- binder types
def test_untyped_binder_is_unified_across_the_whole_statement():
    # Lean gives x the type ℝ (from `(1:ℝ)`), so the statement is false: x = 3/2
    term = Elaborator().prop(parse_term("¬ ∃ x, 2 * x = 3 ∧ x > (1:ℝ)"))
    quant = term.args[0]
    assert isinstance(quant, Quant) and quant.var_ty == REAL
    for proof in ["omega", "push_neg\n  intro x\n  omega", "push_neg\n  intro x h\n  omega",
                  "rintro ⟨x, h1, h2⟩\n  omega", "norm_num", "simp", "decide"]:
        assert not proves(": ¬ ∃ x, 2 * x = 3 ∧ x > (1:ℝ)", proof), proof


def test_untyped_binder_defaults_to_nat_when_nothing_else_says():
    term = Elaborator().prop(parse_term("¬ ∃ x, 2 * x = 3"))
    assert term.args[0].var_ty == "ℕ"
    assert proves(": ¬ ∃ x, 2 * x = 3", "rintro ⟨x, hx⟩\n  omega")


def test_binder_types_that_cannot_be_told_are_refused():
    with pytest.raises(ElabError):
        # x is forced to ℕ by n and to ℝ by r through x * y: Lean reports a type error
        Elaborator().prop(parse_term("∀ (n : ℕ) (r : ℝ), ∃ x y, x * y = 0 ∧ x = n ∧ y = r"))


# ------------------------------------------------------------------------------------------- rw
@pytest.mark.parametrize(("statement", "rules"), [
    ("(x : ℕ) (h : x = 2) : x + 3 = 5", "[h]"),
    ("(x : ℤ) (h : x = 2) : x * 3 = 6", "[h]"),
    ("(x : ℝ) (h : x = 2) : x + 3 = 5", "[h]"),
])
def test_rw_does_not_evaluate_arithmetic(statement, rules):
    # Lean's rw only rewrites and then tries `rfl` at reducible transparency: it leaves `2 + 3 = 5` open
    assert not proves(statement, f"rw {rules}")
    assert proves(statement, f"rw {rules}\n  norm_num")


def test_rw_closes_syntactic_reflexivity():
    assert proves("(x y : ℝ) (h : x = y) : x + 1 = y + 1", "rw [h]")


# ------------------------------------------------------------------------------------------- smaller gaps
def test_linarith_links_a_nat_fact_to_its_cast():
    # Lean's linarith moves ℕ facts to ℤ, where `x < 3` and `(x:ℤ) > 1` talk about the same atom
    assert proves("(x : ℕ) (h : x < 3) (h2 : (x : ℤ) > 1) : x = 2", "linarith")


# ------------------------------------------------------------------------------------------- found by the search
def test_simp_all_does_not_turn_a_negated_hypothesis_into_false_equals_true():
    # (found by the soundness search) true at x = 0, y = 1, so the goal 5 ≤ 4 must stay open
    statement = "(x y : ℕ) (h1 : (y - 2) % (2 / x) ≠ max y (1 / 3)) (h2 : x = x) : (5 : ℕ) ≤ 4"
    for proof in ["simp_all", "simp [h1]", "simp [h1] at h2", "norm_num [h1, h2]"]:
        assert not proves(statement, proof), proof


@pytest.mark.parametrize("proof", ["simp [h]", "rw [h]", "simp only [h]", "simp_all", "norm_num [h]"])
def test_premises_of_a_hypothesis_stay_side_conditions(proof):
    # h only says y = 1 when x > 0; with x = 0 and y = 2 the goal y = 1 is false
    statement = "(x y : ℕ) (h : x > 0 → y = 1) (hx : x = 0) : y = 1"
    assert not proves(statement, proof)
    # with the premise provable, the rule applies
    assert proves("(x y : ℕ) (h : x > 0 → y = 1) (hx : x > 0) : y = 1", "rw [h]\n  exact hx")
