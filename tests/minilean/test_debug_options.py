"""The misbehaving tactics the pool tests rely on behave as documented in minilean/tactics/debug.py."""

from __future__ import annotations

import psutil


def test_sleep_respects_the_timeout_option(repl):
    r = repl()
    r.send("goal.start", {"expr": "1 = 1"})
    assert r.send("goal.tactic", {"stateId": 0, "tactic": "sleep 20"})["nextStateId"] == 1
    r.send("options.set", {"timeout": 5})
    assert r.send("goal.tactic", {"stateId": 0, "tactic": "sleep 2000"}) == {"desc": "interrupt", "error": "internal"}


def test_minilean_sleep_ignores_the_timeout_option(repl):
    r = repl()
    r.send("options.set", {"timeout": 5})
    r.send("goal.start", {"expr": "1 = 1"})
    # a tactic that never checks for cancellation answers late, but normally
    resp = r.send("goal.tactic", {"stateId": 0, "tactic": "minilean_sleep 0.2"})
    assert resp["nextStateId"] == 1 and resp["goals"][0]["target"]["pp"] == "1 = 1"


def test_minilean_alloc_grows_resident_memory(repl):
    r = repl()
    r.send("goal.start", {"expr": "1 = 1"})
    before = psutil.Process(r.proc.pid).memory_info().rss
    resp = r.send("goal.tactic", {"stateId": 0, "tactic": "minilean_alloc 80"})
    assert resp["nextStateId"] == 1
    after = psutil.Process(r.proc.pid).memory_info().rss
    assert after - before >= 70 * 1024 * 1024


def test_minilean_crash_exits_without_answering(repl):
    r = repl()
    r.send("goal.start", {"expr": "1 = 1"})
    assert r.raw('goal.tactic {"stateId": 0, "tactic": "minilean_crash 7"}') == ""  # EOF, no response line
    assert r.proc.wait(timeout=30) == 7


def test_crash_after_flag(repl):
    r = repl("--crash-after", "2")
    assert r.send("stat", {}) == {"nGoals": 0}
    assert r.send("stat", {}) == {"nGoals": 0}
    assert r.raw("stat {}") == ""
    assert r.proc.wait(timeout=30) == 3


def test_bad_debug_argument_is_a_tactic_failure(repl):
    r = repl()
    r.send("goal.start", {"expr": "1 = 1"})
    resp = r.send("goal.tactic", {"stateId": 0, "tactic": "minilean_sleep soon"})
    assert "expected a number" in resp["messages"][0]["data"]
    assert r.proc.poll() is None
