"""Events: the sequence of a search, the fields a UI needs, JSON safety."""

from __future__ import annotations

import json
import math

from prover.engine.config import SearchConfig
from prover.engine.events import NodesScored
from prover.engine.inprocess import FunctionScorer, ScriptedPolicy
from prover.engine.search import search_theorem
from tests.engine.conftest import INTRO, ROOT, STATEMENT, backends


async def test_event_stream_of_a_proved_search(verifier):
    policy = ScriptedPolicy(tactics={ROOT: [("norm_num", -0.3), ("intro x h", -0.5)], INTRO: [("linarith", -0.1)]})
    events: list = []
    result = await search_theorem("thm", STATEMENT, config=SearchConfig.for_strategy("best_first"),
                                  backends=backends(verifier, policy, FunctionScorer(len)), on_event=events.append)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.theorem_name == "thm" for e in events)
    types = [e.type for e in events]
    assert types[0] == "search_started" and types[-1] == "theorem_finished"
    for needed in ("node_added", "node_expanded", "nodes_scored", "proof_found", "node_status_changed", "metric"):
        assert needed in types
    dicts = [e.to_dict() for e in events]
    json.dumps(dicts)  # JSON-safe
    added = [d for d in dicts if d["type"] == "node_added"]
    assert {d["node_id"] for d in added} == {n.id for n in result.tree}
    failed = next(d for d in added if d["kind"] == "failed_tactic")
    assert failed["tactic"] == "norm_num" and failed["error"] and failed["status"] == "failed"
    assert failed["parent_id"] == 0 and failed["depth"] == 1 and failed["log_prob"] == -0.3
    state = next(d for d in added if d["kind"] == "state")
    assert state["goal_text"] == INTRO and state["num_goals"] == 1 and state["lean_ms"] >= 0
    for key in ("node_id", "parent_id", "tactic", "goal_text", "depth", "log_prob", "energy", "status",
                "expansion_order", "lean_ms", "error"):
        assert key in state
    scored = [d for d in dicts if d["type"] == "nodes_scored"]
    assert scored[-1]["scores"] == [{"node_id": state["node_id"], "energy": float(len(INTRO)),
                                     "ebm_score": -float(len(INTRO))}]
    expanded = [d for d in dicts if d["type"] == "node_expanded"]
    assert [d["expansion_order"] for d in expanded] == [0, 1]
    proof = next(d for d in dicts if d["type"] == "proof_found")
    assert proof["verified"] and proof["tactics"] == ["intro x h", "linarith"]
    statuses = [c for d in dicts if d["type"] == "node_status_changed" for c in d["changes"]]
    assert {"node_id": 0, "status": "proved"} in statuses
    finished = dicts[-1]
    assert finished["proved"] and finished["result"]["proof_tactics"] == ["intro x h", "linarith"]
    assert finished["result"]["stats"]["lean_ms"] >= 0 and "total_tokens" in finished["result"]["stats"]


def test_to_dict_replaces_non_finite_numbers():
    event = NodesScored(theorem_name="t", seq=1, elapsed_ms=math.inf,
                        scores=[{"node_id": 1, "energy": math.nan, "ebm_score": -1e6}], ebm_ms=1.0)
    d = event.to_dict()
    assert d["elapsed_ms"] is None and d["scores"][0]["energy"] is None
    json.dumps(d, allow_nan=False)
