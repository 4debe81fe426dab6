"""The Lean 4.8 -> 4.27 rename table (docs/search.md#tactic-renames): whole identifiers only, never twice."""

from __future__ import annotations

import pytest

from prover.engine.tactic_rewrite import rewrite_tactic


@pytest.mark.parametrize(("before", "after"), [
    ("rw [div_le_iff hb]", "rw [div_le_iff₀ hb]"),
    ("rw [le_div_iff₀ hb]", "rw [le_div_iff₀ hb]"),  # already new: the subscript guard stops a 2nd rename
    ("exact my_div_le_iff_lemma", "exact my_div_le_iff_lemma"),  # not a whole identifier
    ("simp [add_left_neg, add_right_neg]", "simp [neg_add_cancel, add_neg_cancel]"),
    ("simp only [true_and_iff, or_false_iff]", "simp only [true_and, or_false]"),
    ("rw [Finset.sum_range_succ]; simp [∑ i in Finset.range n, f i]", "rw [Finset.sum_range_succ]; simp [∑ i ∈ Finset.range n, f i]"),
    ("∏ k in s, g k = 1", "∏ k ∈ s, g k = 1"),
])
def test_renames(before, after):
    assert rewrite_tactic(before) == after
