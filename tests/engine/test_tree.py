"""The search DAG: deduplication, merge edges, cycle refusal, status propagation, multi-goal states."""

from __future__ import annotations

import pytest

from prover.engine.tree import CycleError, NodeKind, NodeStatus, SearchTree


def _tree() -> SearchTree:
    tree = SearchTree()
    tree.add_root(("⊢ p ∧ q",), 0)
    return tree


def test_states_are_deduplicated_by_goal_text():
    tree = _tree()
    a = tree.add_state(0, "constructor", ("⊢ p", "⊢ q"), 1, log_prob=-1.0, created_ms=1.0)
    assert tree.find_state(("⊢ p", "⊢ q")) == a.id
    assert tree.find_state(("⊢ q", "⊢ p")) is None  # goal order is part of the state
    with pytest.raises(ValueError, match="already in the tree"):
        tree.add_state(0, "refine ⟨?_, ?_⟩", ("⊢ p", "⊢ q"), 2, log_prob=-1.0, created_ms=1.0)


def test_terminals_are_never_deduplicated_and_ids_are_stable():
    tree = _tree()
    t1 = tree.add_terminal(0, "simp", 5, log_prob=-1.0, created_ms=0.0)
    t2 = tree.add_terminal(0, "tauto", 6, log_prob=-2.0, created_ms=0.0)
    assert (t1.id, t2.id) == (1, 2)
    assert [n.id for n in tree] == [0, 1, 2]


def test_merge_edge_joins_two_parents_and_cycle_is_refused():
    tree = _tree()
    a = tree.add_state(0, "t1", ("⊢ a",), 1, log_prob=0, created_ms=0)
    b = tree.add_state(0, "t2", ("⊢ b",), 2, log_prob=0, created_ms=0)
    c = tree.add_state(a.id, "t3", ("⊢ c",), 3, log_prob=0, created_ms=0)
    tree.add_merge_edge(b.id, c.id, "t4")
    assert c.parent_ids == [a.id, b.id]
    assert c.parent_id == a.id  # the primary parent stays the first one
    with pytest.raises(CycleError):
        tree.add_merge_edge(c.id, 0, "back to root")
    with pytest.raises(CycleError):
        tree.add_merge_edge(c.id, a.id, "back to parent")


def test_multi_goal_state_is_proved_through_one_edge_and_status_propagates_through_merges():
    tree = _tree()
    both = tree.add_state(0, "constructor", ("⊢ p", "⊢ q"), 1, log_prob=0, created_ms=0)
    only_q = tree.add_state(both.id, "exact hp", ("⊢ q",), 2, log_prob=0, created_ms=0)
    other = tree.add_state(0, "refine ⟨hp, ?_⟩", ("h : p\n⊢ q",), 3, log_prob=0, created_ms=0)
    tree.add_merge_edge(other.id, only_q.id, "clear h")
    assert tree.refresh_status(0) == []
    # Closing the last goal of the single-goal child proves it, its multi-goal parent, the merge parent, the root.
    tree.add_terminal(only_q.id, "exact hq", 4, log_prob=0, created_ms=0)
    changed = tree.refresh_status(only_q.id)
    assert {n.id for n in changed} == {only_q.id, both.id, other.id, 0}
    assert all(tree[i].status is NodeStatus.PROVED for i in (0, both.id, other.id, only_q.id))


def test_a_state_fails_only_when_expanded_and_every_child_failed():
    tree = _tree()
    a = tree.add_state(0, "t1", ("⊢ a",), 1, log_prob=0, created_ms=0)
    tree.add_failed_tactic(a.id, "bad", "unknown identifier", log_prob=0, created_ms=0)
    assert tree.refresh_status(a.id) == []  # not expanded yet: still open
    tree.mark_expanded(a.id, 1)
    assert [n.id for n in tree.refresh_status(a.id)] == [a.id]
    assert a.status is NodeStatus.FAILED
    tree.mark_expanded(0, 0)
    tree.refresh_status(0)
    assert tree.root.status is NodeStatus.FAILED
    # A later child of a failed node revives it and its ancestors (hybrid replays can add one).
    tree.add_state(a.id, "t2", ("⊢ b",), 2, log_prob=0, created_ms=0)
    changed = tree.refresh_status(a.id)
    assert {n.id for n in changed} == {a.id, 0}
    assert tree.root.status is NodeStatus.OPEN


def test_rejected_terminal_counts_as_failed_child():
    tree = _tree()
    tree.mark_expanded(0, 0)
    t = tree.add_terminal(0, "sorry-ish", 9, log_prob=0, created_ms=0)
    tree.reject_terminal(t.id, "re-check failed")
    tree.refresh_status(0)
    assert t.status is NodeStatus.FAILED and tree.root.status is NodeStatus.FAILED


def test_proof_path_follows_primary_parents():
    tree = _tree()
    a = tree.add_state(0, "intro x", ("x : ℕ\n⊢ p x",), 1, log_prob=0, created_ms=0)
    t = tree.add_terminal(a.id, "simp", 2, log_prob=0, created_ms=0)
    assert tree.primary_path(t.id) == [0, a.id, t.id]
    assert tree.proof_tactics(t.id) == ["intro x", "simp"]
    assert t.kind is NodeKind.TERMINAL and t.state_text == ""
