"""`all_goals` (and the other prefix combinators) alone on a line, with the tactics indented below it: Lean
reads the indented lines as the combinator's tactic sequence."""

from __future__ import annotations

from minilean.elab import Elaborator
from minilean.goals import Goal
from minilean.parser import parse_term
from minilean.tactics import Context, parse_script, run_seq

from .helpers import proves


def run(statement: str, script: str) -> list[str]:
    goal = Goal(Elaborator().prop(parse_term(statement)))
    return [g.render() for g in run_seq(parse_script(script), [goal], Context())]


def test_all_goals_block_runs_its_sequence_on_every_goal():
    script = "constructor\nall_goals\n  norm_num\n  linarith"
    assert run("∀ (x : ℝ) (h : x > 2), x > 1 ∧ x + 1 > 2", "intro x h\n" + script) == []


def test_all_goals_block_leaves_what_it_cannot_close():
    # norm_num only restates `x > 1` as `1 < x` in each goal, as Lean's does
    assert run("∀ (x : ℝ), x > 1 ∧ x > 0", "intro x\nconstructor\nall_goals\n  norm_num") == [
        "case left\nx : ℝ\n⊢ 1 < x", "case right\nx : ℝ\n⊢ 0 < x"]


def test_all_goals_block_does_not_close_a_false_goal():
    assert not proves("(x : ℝ) (h : x > 2) : x > 1 ∧ x < 2", "constructor\n  all_goals\n    linarith")


def test_a_line_ending_in_then_continues_on_the_next_line():
    # the lines of a chain at one column, as in an `all_goals` body: `t <;>` then `s` is `t <;> s`
    nodes = parse_script("constructor <;>\nnorm_num <;>\nlinarith\nrfl")
    assert len(nodes) == 2
    assert run("∀ (x : ℝ) (h : x > 2), x > 1 ∧ x + 1 > 2", "intro x h\nconstructor <;>\nnorm_num <;>\nlinarith") == []
    assert not proves("(x : ℝ) (h : x > 2) : x > 1 ∧ x < 2", "constructor <;>\n  linarith")
