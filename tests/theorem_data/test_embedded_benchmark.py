"""The committed embedded benchmark and its seed data: held-out names never reach training, and a released proof
written with its binders in context replays from the search's closed ∀ goal."""

import json
from pathlib import Path

import pytest

from prover.engine.adapters import StackSettings, open_verifier
from theorem_data.embedded_seed import benchmark_names, context_names, declared_names, with_intro
from theorem_data.statements import binder_names
from theorem_data.tracing import trace_proofs

EMBEDDED = Path(__file__).resolve().parents[2] / "data/embedded"


def test_no_held_out_name_or_statement_is_in_training_or_in_the_seed_data():
    training, held_out = benchmark_names(EMBEDDED)
    assert len(held_out) > 100 and len(training) > 300  # the committed split, not an empty file
    assert not held_out & set(training)
    held_out_texts = {t["statement"] for t in json.loads((EMBEDDED / "heldout.json").read_text())["theorems"]}
    assert not held_out_texts & set(training.values())
    seed = [json.loads(line) for line in (EMBEDDED / "seed_sft.jsonl").read_text().splitlines()]
    assert len(seed) > 100
    assert {row["name"] for row in seed} <= set(training)
    assert all(row["state_before"].strip() and row["tactic"].strip() for row in seed)
    report = json.loads((EMBEDDED / "seed_report.json").read_text())
    assert report["steps"] == len(seed) and report["theorems_with_seed_data"] == len({r["name"] for r in seed})


def test_binder_names_read_what_intro_needs_and_refuse_what_they_cannot_read():
    assert binder_names("(x y : ℝ) {n : ℕ} (h₀ : 0 < x ∧ (y : ℝ) = 2)") == ["x", "y", "n", "h₀"]
    assert binder_names("") == []
    assert binder_names("[Fintype α] (x : α)") is None
    assert declared_names("theorem t (a b : ℕ) (h : a = b) : b = a := by") == ["a", "b", "h"]
    assert context_names("b h v : ℝ\nh₀ : 0 < b\n⊢ v = 65") == ["b", "h", "v", "h₀"]
    assert with_intro(["x"], ["simp"]) == ["intro x", "simp"] and with_intro([], ["simp"]) == ["simp"]


@pytest.mark.timeout(120)
async def test_a_proof_written_for_the_theorem_form_replays_after_intro_from_the_closed_goal():
    statement = "∀ (x : ℝ) (h₀ : 2 * x = 6), x = 3"
    tactics = with_intro(declared_names("theorem t (x : ℝ) (h₀ : 2 * x = 6) : x = 3 := by"), ["linarith"])
    async with open_verifier(StackSettings(num_workers=1)) as verifier:
        bare, traced = (await trace_proofs(verifier, [("bare", statement, ["linarith"]), ("t", statement, tactics)])).traces
    assert not bare.proved  # without the intro the hypotheses are not in context
    assert traced.proved and [s.tactic for s in traced.steps] == ["intro x h₀", "linarith"]
    assert traced.steps[1].state.endswith("⊢ x = 3") and "h₀ : 2 * x = 6" in traced.steps[1].state
