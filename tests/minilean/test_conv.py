"""conv / conv_lhs / conv_rhs (docs/minilean-lean-facts.md, conv): rewriting in one side, then Lean's `try rfl`."""

from __future__ import annotations

from minilean.frontend import check_declaration
from minilean.tactics import parse_script

from .helpers import proves


def test_conv_sequence_on_one_line_is_one_tactic():
    nodes = parse_script("conv => lhs; rw [← Nat.mod_add_div 1529 6]")
    assert len(nodes) == 1 and nodes[0].name == "conv"
    nodes = parse_script("conv =>\n  lhs\n  rw [h]\nlinarith")
    assert [n.name for n in nodes] == ["conv", "linarith"]


def test_conv_lhs_rewrite_then_rfl_decides_the_literal_goal():
    assert proves(": 1529 % 6 = 5", "conv => lhs; rw [← Nat.mod_add_div 1529 6]")
    assert proves(": (239 + 174 + 83) % 10 = 6",
                  "conv => lhs; rw [← Nat.mod_add_div 239 10, ← Nat.mod_add_div 174 10]")


def test_conv_never_closes_a_false_goal():
    assert not proves(": 1529 % 6 = 4", "conv => lhs; rw [← Nat.mod_add_div 1529 6]")
    assert not proves("(x y : ℕ) (h : x = y) : x + 1 = x + 2", "conv_lhs => rw [h]")
    assert not proves("(x : ℝ) (h : x = 2) : x * x = 5", "conv => lhs; rw [h]")


def test_conv_lhs_rewrites_only_the_left_side():
    assert not proves("(x y : ℕ) (h : x = y) : x + 1 = x + 1 + 0 * x", "conv_lhs => rw [h]")
    messages, _, _ = check_declaration("theorem t (x y : ℕ) (h : x = y) : x + 1 = x + 2 := by\n  conv_lhs => rw [h]\n"
                                       "  done")
    assert any("y + 1 = x + 2" in text for _, text, _ in messages)
    assert proves("(x y : ℕ) (h : x = y) : x * 1 = y * 1", "conv_rhs => rw [← h]")


def test_conv_refuses_what_it_does_not_model():
    messages, _, _ = check_declaration("theorem t (x : ℕ) : x + 0 = x := by\n  conv => lhs; ring_nf")
    assert any("not modelled" in text for _, text, _ in messages)
    assert not proves("(x : ℕ) (h : x = 1) : x = 1", "conv at h => rw [h]")
