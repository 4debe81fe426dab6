"""From completions to ranked tactics and replayable proofs, including the banned-word filter."""

from __future__ import annotations

import pytest

from prover.policy.banned_words import contains_banned_word
from prover.policy.candidates import normalize_tactic, rank_tactic_candidates, replayable_proofs
from prover.policy.completion import Completion
from prover.policy.extraction import extract_proof_tactics
from prover.policy.prompts import training_completion


def completion(text: str, logprob: float, *, truncated: bool = False) -> Completion:
    return Completion(
        text=text, logprob=logprob, prompt_tokens=10, completion_tokens=len(text), truncated=truncated
    )


@pytest.mark.parametrize(
    ("text", "banned"),
    [
        ("exact sorry", True),
        ("  admit", True),
        ("cheat", True),
        ("exact (sorry)", True),
        ("nlinarith [h.sorry]", True),
        ("exact sorry_lemma", False),
        ("apply admitted_fact", False),
        ("exact my_cheat", False),
        ("exact sorry2", False),
        ("simp -- no sorry here", True),  # a word anywhere in the tactic text counts
        ("linarith", False),
    ],
)
def test_banned_words_are_whole_ascii_words(text: str, banned: bool) -> None:
    assert contains_banned_word(text) is banned


def test_tactics_are_deduplicated_on_whitespace_keeping_the_best_logprob_and_sorted() -> None:
    completions = [
        completion("nlinarith [sq_nonneg (a - b)]", -3.0),
        completion("linarith", -2.0),
        completion("nlinarith  [sq_nonneg  (a - b)]", -1.5),
        completion("sorry", -0.1),
        completion("\n\n", -0.2),
        completion("exact sorry", -0.3),
        completion("linarith\n  simp", -2.5),
    ]

    ranked = rank_tactic_candidates(completions)

    assert [(c.tactic, c.logprob) for c in ranked] == [
        ("nlinarith  [sq_nonneg  (a - b)]", -1.5),
        ("linarith", -2.0),
    ]


def test_equal_logprobs_keep_sampling_order() -> None:
    ranked = rank_tactic_candidates(
        [completion("simp", -1.0), completion("ring", -1.0), completion("omega", -1.0)]
    )
    assert [c.tactic for c in ranked] == ["simp", "ring", "omega"]


def test_the_prompts_indentation_is_restored_before_extraction() -> None:
    # The primed prompt already wrote two spaces, so the model's first line sits at the siblings' level.
    text = "have h : x = 1 := by\n    simp\n  linarith"

    [proof] = replayable_proofs([completion(text, -4.0)])
    [first] = rank_tactic_candidates([completion(text, -4.0)])

    assert proof.tactics == ("have h : x = 1 := by simp", "linarith")
    assert first.tactic == "have h : x = 1 := by\nsimp"
    # Read without the prompt's indentation, the sibling would be swallowed as the have's body.
    assert extract_proof_tactics(text) == ["have h : x = 1", "simp", "linarith"]


def test_proofs_keep_order_and_duplicates_and_drop_banned_or_empty() -> None:
    completions = [
        completion("intro x\n  simp", -5.0),
        completion("intro x\n  exact sorry", -1.0),
        completion("-- nothing here", -2.0),
        completion("intro x\n  simp", -6.0, truncated=True),
        completion("nlinarith [sq_nonneg (x - 1)]", -3.0),
    ]

    proofs = replayable_proofs(completions)

    assert [(p.tactics, p.logprob, p.truncated) for p in proofs] == [
        (("intro x", "simp"), -5.0, False),
        (("intro x", "simp"), -6.0, True),
        (("nlinarith [sq_nonneg (x - 1)]",), -3.0, False),
    ]
    assert proofs[0].completion is completions[0]


@pytest.mark.parametrize(
    "body",
    [
        "intro x y h₀\nnorm_num at h₀ ⊢\nlinarith",
        "have h₁ : 0 < x := by positivity\nnlinarith [sq_nonneg (x - 1), h₁]",
        "constructor <;> intro h <;> linarith",
    ],
)
def test_training_completions_split_back_into_their_tactics(body: str) -> None:
    # What SFT teaches the model to write (minus the stop fence, which the server strips) must replay as
    # the tactics it was made from.
    text = training_completion("deepseek-prover", body).removesuffix("```")
    [proof] = replayable_proofs([completion(text, -1.0)])
    assert list(proof.tactics) == body.split("\n")


def test_normalize_tactic() -> None:
    assert normalize_tactic("  simp  [a,\n   b]\t") == "simp [a, b]"
