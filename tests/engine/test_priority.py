"""Priorities and schedules against BurnQED's formulas and worked examples (docs/search.md#puct-frontier,
docs/search.md#hybrid-rounds, docs/search.md#best-first-priority)."""

from __future__ import annotations

import math

from prover.engine.config import SearchConfig
from prover.engine.priority import (
    best_first_priority,
    decayed_proofs,
    decayed_tokens,
    ebm_skipped_at,
    effective_beta,
    puct_score,
    ramped_temperature,
)


def test_proof_count_and_token_decay_match_the_reference_examples():
    c = SearchConfig()
    assert [decayed_proofs(d, c) for d in range(5)] == [32, 29, 25, 22, 18]
    assert decayed_proofs(8, c) == decayed_proofs(30, c) == 4
    assert [decayed_tokens(d, c) for d in (0, 1, 4, 8, 20)] == [1024, 928, 640, 256, 256]
    flat = c.replace(tokens_decay_depth=0)
    assert decayed_proofs(9, flat) == 32 and decayed_tokens(9, flat) == 1024


def test_temperature_ramp_is_off_by_default_and_caps_at_the_maximum():
    c = SearchConfig(temperature=1.0)
    assert ramped_temperature(5, c) == 1.0
    ramped = c.replace(max_temperature=1.2)
    assert math.isclose(ramped_temperature(4, ramped), 1.1)
    assert ramped_temperature(100, ramped) == 1.2


def test_puct_formula():
    c = SearchConfig()
    fresh = puct_score(prior=-4.0, visits=0, successes=0, parent_visits=0, n_goals=1, config=c)
    assert math.isclose(fresh, 0.5 * -4.0)
    visited = puct_score(prior=-4.0, visits=3, successes=1, parent_visits=5, n_goals=3, config=c)
    alpha_t = 0.5 / 4
    expected = alpha_t * -4.0 + (1 - alpha_t) * (1 / 3) + 1.41 * math.sqrt(math.log(6) / 4) - 0.3 * 2
    assert math.isclose(visited, expected)


def test_best_first_blend_uses_scale_divisors_and_depth_ramped_beta():
    c = SearchConfig(alpha=0.5, beta=0.5, llm_temperature=40.4, ebm_ramp_depth=4, ebm_min_depth=2)
    assert effective_beta(1, c) == 0.0 and ebm_skipped_at(1, c)
    assert effective_beta(2, c) == 0.25 and not ebm_skipped_at(2, c)
    assert effective_beta(9, c) == 0.5
    assert math.isclose(best_first_priority(-40.4, -2.0, 9, c), 0.5 * -1.0 + 0.5 * -2.0)
    assert math.isclose(best_first_priority(-40.4, None, 9, c), -0.5)
    assert best_first_priority(-1.0, None, 0, c.replace(llm_temperature=0.0)) == -0.5  # ~0 means unscaled
