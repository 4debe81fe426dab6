"""The splitter on real proofs from data/proofs, and on arbitrary text (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.policy.candidates import first_tactic_of_completion, normalize_tactic, split_completion
from prover.policy.extraction import extract_first_tactic, extract_proof_tactics

DATA = Path(__file__).resolve().parents[2] / "data" / "proofs"
PROOF_FILES = sorted(DATA.glob("*.jsonl"))


def _records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _assert_replayable_shape(tactics: list[str]) -> None:
    for tactic in tactics:
        assert tactic == tactic.strip(), tactic
        assert tactic not in {"", "<;>", "·", "∙", "."}, tactic
        assert tactic[0] not in "·∙", tactic
        assert not any(line.strip().startswith(("--", "/-")) for line in tactic.split("\n")), tactic


def test_data_files_are_present() -> None:
    assert len(PROOF_FILES) >= 5


@pytest.mark.parametrize("path", PROOF_FILES, ids=lambda p: p.stem)
def test_every_stored_proof_splits_into_clean_tactics(path: Path) -> None:
    for record in _records(path):
        tactics = extract_proof_tactics(record["proof"])
        assert tactics, record["name"]
        _assert_replayable_shape(tactics)


def test_step_prover_proofs_split_into_the_provers_own_steps() -> None:
    # InternLM's best-first search recorded the tactic of every step; where each step is one line, the
    # splitter must recover exactly that sequence from the joined proof text.
    records = [
        r
        for r in _records(DATA / "minif2f_proofs_internlm2.jsonl")
        if all("\n" not in t for t in r["tactics"])
    ]
    assert len(records) > 300
    for record in records:
        split = [normalize_tactic(t) for t in extract_proof_tactics(record["proof"])]
        assert split == [normalize_tactic(t) for t in record["tactics"]], record["name"]


LEAN_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\n  ",
        "\n    ",
        "·",
        "∙",
        ".",
        "<;>",
        " <;> ",
        "by",
        " by",
        ":= by",
        "have h : x = 1",
        "have h",
        "let y : ℕ",
        "calc",
        "_ = 1",
        "| inl h",
        "match h with",
        "=>",
        "(",
        ")",
        "[",
        "]",
        "⟨",
        "⟩",
        "{",
        "}",
        "--",
        "/-",
        "-/",
        "```",
        "```lean4\n",
        "theorem t : True",
        "simp",
        "linarith",
        "sorry",
        "\r\n",
        "\t",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LEAN_PIECES | st.text(max_size=4), max_size=40).map("".join))
def test_splitter_never_fails_and_never_returns_junk(text: str) -> None:
    _assert_replayable_shape(extract_proof_tactics(text))
    _assert_replayable_shape(split_completion(text))
    for first in (extract_first_tactic(text), first_tactic_of_completion(text)):
        assert first == first.strip()
