"""From completions to what search tries in Lean: ranked tactics (step search) or replayable proofs (hybrid).

A completion continues a prompt mid-line: the prompt already wrote the first line's indentation (the
DeepSeek formats end in ``example := by\\n  ``). That indentation is restored before extraction so that the
first line and its siblings line up, as they do in the Lean source the model believes it is writing;
otherwise a first line that opens a block would swallow every sibling as its body (docs/policy.md#candidates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prover.policy.banned_words import contains_banned_word
from prover.policy.completion import Completion
from prover.policy.extraction import extract_first_tactic, extract_proof_tactics
from prover.policy.prompts import DEFAULT_PROMPT_FORMAT, get_prompt_format


def normalize_tactic(tactic: str) -> str:
    """Whitespace-normalised tactic text: the identity of a tactic for de-duplication and replay caches."""
    return " ".join(tactic.split())


@dataclass(frozen=True)
class TacticCandidate:
    """One tactic to try at a node, with the best log-prob of the completions that proposed it."""

    tactic: str
    logprob: float


@dataclass(frozen=True)
class ProofCandidate:
    """A whole-proof completion split into the tactics to replay."""

    tactics: tuple[str, ...]
    logprob: float
    truncated: bool
    completion: Completion


def _as_written(completion_text: str, prompt_format: str) -> str:
    return get_prompt_format(prompt_format).continuation_indent + completion_text


def first_tactic_of_completion(text: str, *, prompt_format: str = DEFAULT_PROMPT_FORMAT) -> str:
    """The first tactic of a completion of ``prompt_format``'s prompt (``""`` if none)."""
    return extract_first_tactic(_as_written(text, prompt_format))


def split_completion(text: str, *, prompt_format: str = DEFAULT_PROMPT_FORMAT) -> list[str]:
    """The tactics to replay from a whole-proof completion of ``prompt_format``'s prompt.

    Banned words are not checked here; ``replayable_proofs`` does both.
    """
    return extract_proof_tactics(_as_written(text, prompt_format))


def rank_tactic_candidates(
    completions: Iterable[Completion], *, prompt_format: str = DEFAULT_PROMPT_FORMAT
) -> list[TacticCandidate]:
    """First tactic of each completion; empty and banned ones dropped, duplicates (up to whitespace) merged
    keeping the best log-prob, sorted by log-prob, best first (ties keep sampling order)."""
    best: dict[str, TacticCandidate] = {}
    for completion in completions:
        tactic = first_tactic_of_completion(completion.text, prompt_format=prompt_format)
        if not tactic or contains_banned_word(tactic):
            continue
        key = normalize_tactic(tactic)
        known = best.get(key)
        if known is None or completion.logprob > known.logprob:
            best[key] = TacticCandidate(tactic=tactic, logprob=completion.logprob)
    # dicts keep insertion order and sorted() is stable, so equal log-probs stay in sampling order.
    return sorted(best.values(), key=lambda candidate: candidate.logprob, reverse=True)


def replayable_proofs(
    completions: Iterable[Completion], *, prompt_format: str = DEFAULT_PROMPT_FORMAT
) -> list[ProofCandidate]:
    """Split each whole-proof completion into tactics, in sampling order.

    A completion with no tactics is skipped; one where any tactic uses a banned word is skipped entirely
    (a proof that relies on ``sorry`` anywhere proves nothing). There is no de-duplication here: identical
    prefixes are shared by the replay trie, and dropping duplicates would hide how often the policy
    proposed a proof.
    """
    proofs: list[ProofCandidate] = []
    for completion in completions:
        tactics = split_completion(completion.text, prompt_format=prompt_format)
        if not tactics or any(contains_banned_word(tactic) for tactic in tactics):
            continue
        proofs.append(
            ProofCandidate(
                tactics=tuple(tactics),
                logprob=completion.logprob,
                truncated=completion.truncated,
                completion=completion,
            )
        )
    return proofs
