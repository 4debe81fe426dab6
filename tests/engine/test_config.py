"""SearchConfig: BurnQED's defaults per strategy (docs/search.md#defaults), and clear errors that name the field."""

from __future__ import annotations

import pytest

from prover.engine.config import ConfigError, SearchConfig


def test_reference_defaults():
    c = SearchConfig()
    assert (c.max_depth, c.alpha, c.exploration_c, c.goal_count_penalty) == (25, 0.5, 1.41, 0.3)
    assert (c.num_proofs, c.min_proofs, c.max_proof_tokens, c.min_proof_tokens) == (32, 4, 1024, 256)
    assert (c.max_completions, c.max_rounds, c.timeout_s, c.top_p) == (256, 30, 600.0, 0.95)
    bf = SearchConfig.for_strategy("best_first")
    assert (bf.max_nodes, bf.max_completions, bf.max_rounds) == (600, None, None)
    pn = SearchConfig.for_strategy("pass_at_n", pass_n=8)
    assert (pn.max_rounds, pn.pass_n) == (1, 8)


@pytest.mark.parametrize(("values", "message"), [
    ({"max_depth": 0}, "max_depth: must be >= 1"),
    ({"num_candidates": "8"}, "num_candidates: expected int"),
    ({"max_nodes": True}, "max_nodes: expected int or null"),
    ({"top_p": 1.5}, "top_p: must be in (0, 1]"),
    ({"min_proofs": 64}, "min_proofs: must be <= num_proofs"),
    ({"strategy": "dfs"}, "strategy: 'dfs' is not one of"),
    ({"num_candidate": 8}, "unknown key(s) ['num_candidate']"),
    ({"probe_tactics": ["simp", " "]}, "probe_tactics[1]: must be a non-empty tactic"),
    ({"timeout_s": float("nan")}, "timeout_s"),
])
def test_bad_values_are_reported_with_the_field(values, message):
    with pytest.raises(ConfigError) as info:
        SearchConfig.from_mapping(values, where="run 7 config")
    assert message in str(info.value)
    assert str(info.value).startswith("run 7 config: ")


def test_round_trip_through_a_dict():
    c = SearchConfig.for_strategy("hybrid", probe_tactics=["simp"], max_tokens=1000)
    assert SearchConfig.from_mapping(c.to_dict()) == c
