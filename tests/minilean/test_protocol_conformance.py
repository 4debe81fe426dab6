"""Replays request/response examples of Pantograph 0.3.4's integration tests (docs/lean.md#commands)
against a real `python -m minilean` process and checks every response's shape: field names, types, error objects.
"""

from __future__ import annotations

import json

MESSAGE_KEYS = {"caption", "data", "endPos", "fileName", "isSilent", "keepFullRange", "kind", "pos", "severity"}


def assert_goal_shape(goal: dict) -> None:
    assert set(goal) <= {"fragment", "name", "target", "vars", "userName"}
    assert {"fragment", "name", "target", "vars"} <= set(goal)
    assert goal["fragment"] == "tactic"
    assert goal["name"].startswith("_uniq.")
    assert isinstance(goal["target"]["pp"], str)
    for var in goal["vars"]:
        assert set(var) == {"isInaccessible", "name", "type", "userName"}
        assert isinstance(var["isInaccessible"], bool)
        assert var["name"].startswith("_uniq.")
        assert isinstance(var["type"]["pp"], str)


def assert_success(resp: dict) -> None:
    assert set(resp) == {"goals", "hasSorry", "hasUnsafe", "messages", "nextStateId"}
    assert isinstance(resp["nextStateId"], int)
    for goal in resp["goals"]:
        assert_goal_shape(goal)
    for msg in resp["messages"]:
        assert set(msg) == MESSAGE_KEYS


def assert_error(resp: dict, kind: str) -> None:
    assert set(resp) == {"desc", "error"}, resp
    assert resp["error"] == kind
    assert isinstance(resp["desc"], str) and resp["desc"]


def test_ready_line_and_sorted_compact_output(repl):
    r = repl()
    assert r.ready_line == "ready.\n"
    line = r.raw('goal.start {"expr": "∀ (p q: Prop), p ∨ q → q ∨ p"}')
    # compact, keys sorted, UTF-8 kept raw
    assert line == '{"root":"' + json.loads(line)["root"] + '","stateId":0}\n'


def test_section_10_transcript(repl):
    r = repl()
    start = r.send("goal.start", {"expr": "∀ (p q: Prop), p ∨ q → q ∨ p"})
    assert set(start) == {"root", "stateId"} and start["stateId"] == 0 and start["root"].startswith("_uniq.")

    step = r.send("goal.tactic", {"stateId": 0, "tactic": "intro p q h"})
    assert_success(step)
    assert step["nextStateId"] == 1
    (goal,) = step["goals"]
    assert goal["target"]["pp"] == "q ∨ p"
    assert [(v["userName"], v["type"]["pp"], v["isInaccessible"]) for v in goal["vars"]] == [
        ("p", "Prop", False), ("q", "Prop", False), ("h", "p ∨ q", False)]

    step = r.send("goal.tactic", {"stateId": 1, "tactic": "cases h"})
    assert_success(step)
    inl, inr = step["goals"]
    assert (inl["userName"], inr["userName"]) == ("inl", "inr")
    assert [(v["userName"], v["type"]["pp"], v["isInaccessible"]) for v in inl["vars"]][-1] == ("h✝", "p", True)
    assert [(v["userName"], v["type"]["pp"], v["isInaccessible"]) for v in inr["vars"]][-1] == ("h✝", "q", True)

    step = r.send("goal.tactic", {"stateId": 2, "tactic": "right"})
    assert_success(step)
    assert [g.get("userName") for g in step["goals"]] == ["inl.h", "inr"]
    assert step["goals"][0]["target"]["pp"] == "p"

    step = r.send("goal.tactic", {"stateId": 3, "tactic": "assumption"})
    assert_success(step)
    assert [g["userName"] for g in step["goals"]] == ["inr"]


def test_closing_all_goals_returns_empty_goal_list(repl):
    r = repl()
    r.send("goal.start", {"expr": "(1 : Nat) + (2 * 3) = 1 + (4 - 3) + (6 - 4) + 3"})
    step = r.send("goal.tactic", {"stateId": 0, "tactic": "simp"})
    assert_success(step)
    assert step["goals"] == [] and step["hasSorry"] is False


def test_tactic_failure_has_messages_and_no_goals(repl):
    r = repl()
    r.send("goal.start", {"expr": "∀ (x : ℝ), x + 1 > x + 2"})
    r.send("goal.tactic", {"stateId": 0, "tactic": "intro x"})
    fail = r.send("goal.tactic", {"stateId": 1, "tactic": "linarith"})
    assert set(fail) == {"hasSorry", "hasUnsafe", "messages"}
    (msg,) = fail["messages"]
    assert set(msg) == MESSAGE_KEYS
    assert msg["severity"] == "error" and msg["fileName"] == "<Pantograph>"
    assert msg["data"].startswith("linarith failed to find a contradiction")
    # a failed tactic stores nothing: the next success takes id 2
    assert r.send("stat", {}) == {"nGoals": 2}


def test_parse_error_shape(repl):
    r = repl()
    r.send("goal.start", {"expr": "∀ (p : Prop), p → p"})
    resp = r.send("goal.tactic", {"stateId": 0, "tactic": "intro x )"})
    assert set(resp) == {"hasSorry", "hasUnsafe", "parseError"}
    assert resp["parseError"].startswith("<Pantograph>:1:")


def test_sorry_is_reported(repl):
    r = repl()
    r.send("goal.start", {"expr": "∀ (p : Prop), p"})
    resp = r.send("goal.tactic", {"stateId": 0, "tactic": "sorry"})
    assert_success(resp)
    assert resp["goals"] == [] and resp["hasSorry"] is True


def test_protocol_errors(repl):
    r = repl()
    assert r.send("invalid", {"name": "Nat.add_one"}) == {"desc": "Unknown command invalid", "error": "command"}
    assert r.send("expr.echo", {"invalid": "Random garbage data"}) == {
        "desc": "Unable to parse json: Pantograph.Protocol.ExprEcho.expr: String expected", "error": "command"}
    assert r.send("goal.tactic", {"stateId": 99, "tactic": "rfl"}) == {"desc": "Invalid state index 99",
                                                                     "error": "index"}
    assert_error(r.send("goal.start", {}), "arguments")
    assert_error(r.send("goal.start", {"expr": "1 = 1", "copyFrom": "x"}), "arguments")
    assert_error(r.send("goal.start", {"copyFrom": "no_such_theorem"}), "index")
    assert_error(r.send("goal.start", {"expr": "∀ (x : ℝ), x +"}), "parsing")
    assert_error(r.send("goal.start", {"expr": "∀ (x : ℝ), foo x = 1"}), "elab")
    assert_error(r.send("goal.start", {"expr": 5}), "command")
    r.send("goal.start", {"expr": "1 = 1"})
    assert_error(r.send("goal.tactic", {"stateId": 0}), "operation")
    assert_error(r.send("goal.tactic", {"stateId": 0, "tactic": "rfl", "expr": "rfl"}), "operation")
    assert_error(r.send("goal.tactic", {"stateId": 0, "goalId": 3, "tactic": "rfl"}), "index")
    assert_error(r.send("goal.tactic", {"stateId": "0", "tactic": "rfl"}), "command")
    bad_json = json.loads(r.raw("goal.start {not json"))
    assert_error(bad_json, "command")
    assert_error(json.loads(r.raw('{"payload": {}}')), "command")


def test_envelope_form_and_copy_from(repl):
    r = repl("--theorems", "data/benchmarks/minif2f_test.json")
    start = r.send("goal.start", {"copyFrom": "mathd_algebra_478"}, envelope=True)
    assert start["stateId"] == 0
    printed = r.send("goal.print", {"stateId": 0, "goals": True})
    assert set(printed) == {"extraMVars", "goals", "rootHasMVar", "rootHasSorry", "rootHasUnsafe"}
    (goal,) = printed["goals"]
    assert_goal_shape(goal)
    assert goal["vars"] == []
    assert goal["target"]["pp"].startswith("∀ (b h v : ℝ), 0 < b ∧ 0 < h ∧ 0 < v → v = 1 / 3 * (b * h) →")


def test_state_bookkeeping_delete_reset_stat(repl):
    r = repl()
    for _ in range(3):
        r.send("goal.start", {"expr": "2 + 2 = 4"})
    assert r.send("stat", {}) == {"nGoals": 3}
    assert r.send("goal.delete", {"stateIds": [0, 2, 77]}) == {}
    assert r.send("stat", {}) == {"nGoals": 1}
    assert_error(r.send("goal.tactic", {"stateId": 0, "tactic": "rfl"}), "index")
    assert r.send("goal.start", {"expr": "2 + 2 = 4"})["stateId"] == 3  # ids are never reused
    assert r.send("reset", {}) == {"nGoals": 2}
    assert r.send("goal.start", {"expr": "2 + 2 = 4"})["stateId"] == 0  # except after reset


def test_options_set_and_print(repl):
    r = repl()
    options = r.send("options.print", {})
    assert options == {"automaticMode": True, "noRepeat": False, "printAuxDecls": False,
                       "printDependentMVars": False, "printExprAST": False, "printExprPretty": True,
                       "printImplementationDetailHyps": False, "printJsonPretty": False, "timeout": 0}
    assert r.send("options.set", {"timeout": 10, "printDependentMVars": True, "unknownKey": 1}) == {}
    assert r.send("options.print", {})["timeout"] == 10
    assert_error(r.send("options.set", {"timeout": "soon"}), "command")
    r.send("goal.start", {"expr": "∀ (x : ℕ), x = x"})
    step = r.send("goal.tactic", {"stateId": 0, "tactic": "intro x"})
    assert step["goals"][0]["target"] == {"dependentMVars": [], "pp": "x = x"}


def test_timeout_option_interrupts(repl):
    r = repl()
    r.send("options.set", {"timeout": 10})
    r.send("goal.start", {"expr": "1 = 1"})
    assert r.send("goal.tactic", {"stateId": 0, "tactic": "sleep 1000"}) == {"desc": "interrupt",
                                                                             "error": "internal"}
    # the state stays usable after an interrupt
    assert r.send("goal.tactic", {"stateId": 0, "tactic": "rfl"})["goals"] == []


def test_frontend_process_with_sorrys(repl):
    r = repl()
    resp = r.send("frontend.process", {
        "file": "example : 1 + 2 = 3 := rfl\nexample (p: Prop): p → p := sorry", "readHeader": False,
        "inheritEnv": False, "sorrys": True, "typeErrorsAsGoals": False, "newConstants": False})
    first, second = resp["units"]
    assert first == {"boundary": [0, 27], "messages": []}
    assert second["boundary"] == [27, 62]
    assert second["goalStateId"] == 0
    (goal,) = second["goals"]
    assert goal["target"]["pp"] == "p → p"
    assert [v["userName"] for v in goal["vars"]] == ["p"]
    (warning,) = second["messages"]
    assert set(warning) == MESSAGE_KEYS
    assert (warning["severity"], warning["kind"], warning["data"]) == ("warning", "hasSorry",
                                                                      "declaration uses 'sorry'")
    assert warning["pos"] == {"column": 0, "line": 2}
    step = r.send("goal.tactic", {"stateId": 0, "tactic": "intro h"})
    assert_success(step)
    assert r.send("goal.tactic", {"stateId": 1, "tactic": "exact h"})["goals"] == []


def test_frontend_process_reports_errors_and_unsolved_goals(repl):
    r = repl()
    base = {"readHeader": False, "inheritEnv": False, "sorrys": False, "typeErrorsAsGoals": False,
            "newConstants": False}
    ok = r.send("frontend.process", {**base, "file": "theorem t (a b : ℝ) (h₀ : a < b) : a ≤ b + 1 := by\n"
                                                     "  linarith"})
    assert ok["units"][0]["messages"] == []
    bad = r.send("frontend.process", {**base, "file": "theorem t (a b : ℝ) : a ≤ b := by\n  linarith"})
    (msg,) = bad["units"][0]["messages"]
    assert msg["severity"] == "error" and msg["data"].startswith("linarith failed")
    open_goal = r.send("frontend.process", {**base, "file": "theorem t (a b : ℝ) (h : a = b) : b = a ∧ a = b := by\n"
                                                           "  constructor\n  · rw [h]"})
    (msg,) = open_goal["units"][0]["messages"]
    assert msg["data"].startswith("unsolved goals\ncase right")
    assert_error(r.send("frontend.process", {"file": "x"}), "command")
    assert_error(r.send("frontend.process", {**base}), "arguments")


def test_blank_line_stops_the_server(repl):
    r = repl()
    r.send("stat", {})
    r.proc.stdin.write("\n")
    r.proc.stdin.flush()
    assert r.proc.wait(timeout=30) == 0
