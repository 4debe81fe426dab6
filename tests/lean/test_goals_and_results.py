"""Goal rendering and result classification on Pantograph 0.3.4's example replies (docs/lean.md#goal-text,
docs/lean.md#result-classification)."""

import json

import pytest

from prover.lean.goals import Goal, GoalFormatError, Variable, goal_key, goals_from_wire, render_goals
from prover.lean.results import Outcome, classify_check, classify_tactic

INTRO_REPLY = json.loads(
    '{"goals":[{"fragment":"tactic","name":"_uniq.17","target":{"pp":"q ∨ p"},"vars":[{"isInaccessible":false,'
    '"name":"_uniq.10","type":{"pp":"Prop"},"userName":"p"},{"isInaccessible":false,"name":"_uniq.13","type":'
    '{"pp":"Prop"},"userName":"q"},{"isInaccessible":false,"name":"_uniq.16","type":{"pp":"p ∨ q"},"userName":"h"}]}],'
    '"hasSorry":false,"hasUnsafe":false,"messages":[],"nextStateId":1}'
)
CASES_REPLY = json.loads(
    '{"goals":[{"fragment":"tactic","name":"_uniq.61","target":{"pp":"q ∨ p"},"userName":"inl","vars":[{"isInaccessible"'
    ':false,"name":"_uniq.10","type":{"pp":"Prop"},"userName":"p"},{"isInaccessible":false,"name":"_uniq.13","type":'
    '{"pp":"Prop"},"userName":"q"},{"isInaccessible":true,"name":"_uniq.49","type":{"pp":"p"},"userName":"h✝"}]},'
    '{"fragment":"tactic","name":"_uniq.74","target":{"pp":"q ∨ p"},"userName":"inr","vars":[{"isInaccessible":false,'
    '"name":"_uniq.10","type":{"pp":"Prop"},"userName":"p"},{"isInaccessible":false,"name":"_uniq.13","type":{"pp":'
    '"Prop"},"userName":"q"},{"isInaccessible":true,"name":"_uniq.62","type":{"pp":"q"},"userName":"h✝"}]}],'
    '"hasSorry":false,"hasUnsafe":false,"messages":[],"nextStateId":2}'
)
APPLY_FAILED_REPLY = json.loads(
    '{"hasSorry":false,"hasUnsafe":false,"messages":[{"caption":"","data":"tactic \'apply\' failed, could not unify",'
    '"endPos":null,"fileName":"<Pantograph>","isSilent":false,"keepFullRange":false,"kind":"[anonymous]","pos":'
    '{"column":0,"line":0},"severity":"error"}]}'
)


def test_one_goal_renders_hypotheses_then_turnstile():
    result = classify_tactic(INTRO_REPLY)
    assert result.outcome is Outcome.NEW_GOALS and result.state_id == 1
    assert result.text == "p : Prop\nq : Prop\nh : p ∨ q\n⊢ q ∨ p"


def test_several_goals_are_joined_by_a_blank_line_and_case_tags_left_out():
    result = classify_tactic(CASES_REPLY)
    assert [g.case for g in result.goals] == ["inl", "inr"]
    assert result.text == "p : Prop\nq : Prop\nh✝ : p\n⊢ q ∨ p\n\np : Prop\nq : Prop\nh✝ : q\n⊢ q ∨ p"
    assert result.goals[0].variables[2].inaccessible


def test_let_values_and_goal_without_hypotheses():
    goals = (Goal(target="x = 2", variables=(Variable("x", "ℕ", value="2"),)), Goal(target="True"))
    assert render_goals(goals) == "x : ℕ := 2\n⊢ x = 2\n\n⊢ True"
    assert render_goals(()) == ""


def test_dedupe_key_ignores_whitespace_layout_but_not_content():
    a = (Goal(target="a +  b = b + a", variables=(Variable("a", "ℕ"),)),)
    b = "a : ℕ\n⊢ a + b\n    = b + a".replace("\n    ", " ")
    assert goal_key(a) == goal_key(b)
    assert goal_key(a) != goal_key((Goal(target="a + b = a + b", variables=(Variable("a", "ℕ"),)),))
    # goal order is part of the state: tactics act on the first goal
    g1, g2 = Goal(target="P"), Goal(target="Q")
    assert goal_key((g1, g2)) != goal_key((g2, g1))


def test_proof_complete_only_with_empty_goals():
    assert classify_tactic({"goals": [], "hasSorry": False, "hasUnsafe": False, "messages": [], "nextStateId": 1}).complete
    # `<;>` chains can close everything without an id: still complete, no id to hand out
    result = classify_tactic({"goals": [], "hasSorry": False, "hasUnsafe": False})
    assert result.complete and result.state_id is None


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ({"hasSorry": False, "hasUnsafe": False, "parseError": "<Pantograph>:1:8: unexpected token ')'"}, Outcome.PARSE_ERROR),
        # Pantograph's own sorry example: goals [] but hasSorry must win over "complete"
        ({"goals": [], "hasSorry": True, "hasUnsafe": False, "messages": [], "nextStateId": 3}, Outcome.SORRY),
        ({"goals": [], "hasSorry": False, "hasUnsafe": True, "messages": [], "nextStateId": 3}, Outcome.UNSAFE),
        (APPLY_FAILED_REPLY, Outcome.FAILED),
        # BurnQED's false-proof bug: a reply with neither goals nor nextStateId is a failure
        ({"hasSorry": False, "hasUnsafe": False, "messages": []}, Outcome.FAILED),
        ({"goals": [INTRO_REPLY["goals"][0]], "hasSorry": False, "hasUnsafe": False}, Outcome.FAILED),
        ({"nextStateId": 4, "hasSorry": False, "hasUnsafe": False}, Outcome.FAILED),
        ({"desc": "interrupt", "error": "internal"}, Outcome.ERROR),
        ({"desc": "Invalid state index 99", "error": "index"}, Outcome.ERROR),
        # pre-0.3.1 failure shape
        ({"tacticErrors": ["unknown identifier 'x'"]}, Outcome.FAILED),
    ],
)
def test_classification_order(reply, outcome):
    assert classify_tactic(reply).outcome is outcome


def test_failure_feedback_is_the_lean_error_text():
    assert classify_tactic(APPLY_FAILED_REPLY).feedback == "tactic 'apply' failed, could not unify"
    interrupted = classify_tactic({"desc": "interrupt", "error": "internal"})
    assert interrupted.interrupted and interrupted.error_kind == "internal"
    assert not classify_tactic({"desc": "Invalid state index 99", "error": "index"}).interrupted


def test_malformed_goal_says_where():
    with pytest.raises(GoalFormatError, match=r"goals\[0\]: missing 'target'"):
        goals_from_wire([{"vars": []}])
    with pytest.raises(GoalFormatError, match=r"goals\[0\].vars\[1\]: missing 'userName'"):
        goals_from_wire([{"target": {"pp": "P"}, "vars": [{"userName": "h", "type": {"pp": "P"}}, {"type": {"pp": "Q"}}]}])


def test_whole_proof_check_verdicts_from_frontend_replies():
    sorry_reply = json.loads(
        '{"units":[{"boundary":[0,27],"messages":[]},{"boundary":[27,62],"messages":[{"caption":"","data":'
        '"declaration uses \'sorry\'","endPos":{"column":7,"line":2},"fileName":"<anonymous>","isSilent":false,'
        '"keepFullRange":false,"kind":"hasSorry","pos":{"column":0,"line":2},"severity":"warning"}]}]}'
    )
    verdict = classify_check(sorry_reply)
    assert not verdict.ok and verdict.has_sorry and verdict.reason == "proof uses sorry"
    assert classify_check({"units": [{"boundary": [0, 27], "messages": []}]}).ok
    error = classify_check({"units": [{"messages": [{"severity": "error", "data": "unsolved goals", "kind": "x"}]}]})
    assert not error.ok and error.errors == ("unsolved goals",)
    assert not classify_check({"error": "io", "desc": "no such file"}).ok
