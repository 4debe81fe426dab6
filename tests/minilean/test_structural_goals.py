"""Golden tests: structural tactics produce the goals Lean would (names, hypotheses, order, case tags)."""

from __future__ import annotations

from minilean.elab import Elaborator
from minilean.goals import Goal
from minilean.parser import parse_term
from minilean.tactics import Context, TacticError, parse_script, run_seq


def run(statement: str, script: str) -> list[str]:
    goal = Goal(Elaborator().prop(parse_term(statement)))
    return [g.render() for g in run_seq(parse_script(script), [goal], Context())]


def test_intro_names_and_binders():
    assert run("∀ (x : ℝ) (h₀ : 0 < x), x ^ 2 > 0", "intro x h₀") == ["x : ℝ\nh₀ : 0 < x\n⊢ x ^ 2 > 0"]
    assert run("∀ (x : ℝ) (h₀ : 0 < x), x ^ 2 > 0", "intros") == ["x✝ : ℝ\nh₀✝ : 0 < x✝\n⊢ x✝ ^ 2 > 0"]
    assert run("∀ (a b : ℕ), a ≠ b → b ≠ a", "intro a b h\nintro h'") == [
        "a b : ℕ\nh : a ≠ b\nh' : b = a\n⊢ False"]
    assert run("∀ (a : ℕ), a = a", "intro") == ["a✝ : ℕ\n⊢ a✝ = a✝"]


def test_printing_follows_lean():
    assert run("∀ (a b : ℕ) (h : (a - b : ℤ) ≤ 0), a - b = 0", "intro a b h") == [
        "a b : ℕ\nh : ↑a - ↑b ≤ 0\n⊢ a - b = 0"]
    assert run("∀ (x : ℝ) (n : ℕ), Real.sqrt (x + 1) + abs x ≥ n / 2", "intro x n") == [
        "x : ℝ\nn : ℕ\n⊢ √(x + 1) + |x| ≥ ↑n / 2"]


def test_constructor_cases_and_tags():
    assert run("∀ (p q : Prop), p ∧ q → q ∧ p", "intro p q h\nconstructor") == [
        "case left\np q : Prop\nh : p ∧ q\n⊢ q", "case right\np q : Prop\nh : p ∧ q\n⊢ p"]
    assert run("∀ (p q : Prop), p ↔ q", "intro p q\nconstructor") == [
        "case mp\np q : Prop\n⊢ p → q", "case mpr\np q : Prop\n⊢ q → p"]
    assert run("∀ (x : ℝ) (h : x < 0 ∨ x > 1), x ≠ 1 / 2", "intro x h\nrcases h with h₁ | h₂") == [
        "case inl\nx : ℝ\nh₁ : x < 0\n⊢ x ≠ 1 / 2", "case inr\nx : ℝ\nh₂ : x > 1\n⊢ x ≠ 1 / 2"]
    assert run("∀ (x : ℝ) (h : 0 < x ∧ x < 1), x < 2", "intro x h\nobtain ⟨h₁, h₂⟩ := h") == [
        "case intro\nx : ℝ\nh₁ : 0 < x\nh₂ : x < 1\n⊢ x < 2"]
    assert run("∀ (h : ∃ n : ℕ, n > 3), ∃ m : ℕ, m > 2", "intro h\nobtain ⟨n, hn⟩ := h") == [
        "case intro\nn : ℕ\nhn : n > 3\n⊢ ∃ m, m > 2"]
    assert run("∀ (p q : Prop) (h : p ∧ q), q", "intro p q h\ncases h") == [
        "case intro\np q : Prop\nleft✝ : p\nright✝ : q\n⊢ q"]


def test_left_right_use_exfalso_by_contra():
    assert run("∀ (x : ℕ), x = 0 ∨ x > 0", "intro x\nright") == ["case h\nx : ℕ\n⊢ x > 0"]
    assert run("∃ x : ℕ, x + 1 = 3", "use 2") == []
    assert run("∃ x : ℝ, x + 1 = 3", "use 2") == ["case h\n⊢ 2 + 1 = 3"]
    assert run("∀ (x : ℝ), x ≤ x ^ 2 + 1", "intro x\nby_contra h") == ["x : ℝ\nh : ¬x ≤ x ^ 2 + 1\n⊢ False"]
    assert run("∀ (x : ℝ), x ≤ x ^ 2 + 1", "intro x\nby_contra! h") == ["x : ℝ\nh : x ^ 2 + 1 < x\n⊢ False"]


def test_have_forms():
    assert run("∀ (x : ℝ) (h : 2 * x = 4), x = 2", "intro x h\nhave h₂ : x = 2") == [
        "case h₂\nx : ℝ\nh : 2 * x = 4\n⊢ x = 2", "x : ℝ\nh : 2 * x = 4\nh₂ : x = 2\n⊢ x = 2"]
    assert run("∀ (x : ℝ) (h : 2 * x = 4), x = 2", "intro x h\nhave : x = 2 := by linarith") == [
        "x : ℝ\nh : 2 * x = 4\nthis : x = 2\n⊢ x = 2"]
    assert run("∀ (x : ℝ) (h : 2 * x = 4), x = 2", "intro x h\nhave h : x = 2 := by linarith") == [
        "x : ℝ\nh✝ : 2 * x = 4\nh : x = 2\n⊢ x = 2"]


def test_rw_subst_and_combinators():
    assert run("∀ (x y : ℝ) (h : x = 2), x * y = 2 * y", "intro x y h\nrw [h]") == []
    assert run("∀ (x y : ℝ) (h : x = 2), y = x + 1", "intro x y h\nrw [h]") == [
        "x y : ℝ\nh : x = 2\n⊢ y = 2 + 1"]
    assert run("∀ (b h : ℝ) (h₂ : b = 30), b + h = 30 + h", "intro b h h₂\nsubst h₂") == ["h : ℝ\n⊢ 30 + h = 30 + h"]
    assert run("∀ (a b : ℝ) (h₀ : a = 1) (h₁ : b = 2), a < 2 ∧ b > 1",
               "intro a b h₀ h₁\nconstructor <;> linarith") == []
    assert run("∀ (a : ℝ) (h : 0 < a), a > 0 ∧ a ≥ 0", "intro a h\nconstructor\n· linarith\n· positivity") == []


def test_failures_keep_lean_messages():
    for statement, script, expected in [
        ("∀ (x : ℝ), x ^ 2 ≥ 1", "intro x\nlinarith", "linarith failed to find a contradiction"),
        ("∀ (x y : ℕ), x * y = y * x + 1", "intro x y\nomega", "omega could not prove the goal"),
        ("∀ (x : ℝ) (h : 1 < x), 0 < x - 1", "intro x h\npositivity", "failed to prove positivity"),
        ("(2 : ℝ) + 2 = 4", "decide", "failed to synthesize"),
    ]:
        try:
            run(statement, script)
        except TacticError as exc:
            assert expected in exc.message, exc.message
        else:
            raise AssertionError(f"{script!r} should fail on {statement}")
    # norm_num leaves a false closed goal as `False` (Mathlib's normNumAt does not fail there)
    assert run("∀ (x : ℝ) (h : x = 2), x + 1 = 4", "intro x h\nrw [h]\nnorm_num") == ["x : ℝ\nh : x = 2\n⊢ False"]
