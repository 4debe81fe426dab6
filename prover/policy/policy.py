"""The policy as search sees it: states in, ranked tactics or replayable proofs out.

It binds a client to prompt formats so that the prompt text, the stop sequences and the way completions are
read back always belong together; search code never assembles prompts or stop lists itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from prover.policy.candidates import (
    ProofCandidate,
    TacticCandidate,
    rank_tactic_candidates,
    replayable_proofs,
)
from prover.policy.client import PolicyClient
from prover.policy.completion import Completion
from prover.policy.prompts import (
    DEFAULT_PROMPT_FORMAT,
    format_prompt,
    get_prompt_format,
    stop_sequences,
)

C = TypeVar("C", TacticCandidate, ProofCandidate)

# BurnQED's defaults (docs/policy.md#client): 48 tokens for one tactic, temperature 0.8, top_p 0.95.
DEFAULT_TACTIC_TOKENS = 48
DEFAULT_PROOF_TOKENS = 1024
DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_P = 0.95


@dataclass(frozen=True)
class Proposals(Generic[C]):
    """What the policy proposed for one prompt, and every completion it took (for token accounting)."""

    candidates: list[C]
    completions: list[Completion]

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.completions)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.completions)


class Policy:
    def __init__(
        self,
        client: PolicyClient,
        *,
        state_format: str = DEFAULT_PROMPT_FORMAT,
        theorem_format: str | None = "deepseek-whole-proof",
    ) -> None:
        if get_prompt_format(state_format).needs != "state":
            raise ValueError(f"state_format {state_format!r} is not built from a tactic state")
        if theorem_format is not None and get_prompt_format(theorem_format).needs != "theorem":
            raise ValueError(f"theorem_format {theorem_format!r} is not built from a theorem statement")
        self.client = client
        self.state_format = get_prompt_format(state_format).name
        self.theorem_format = get_prompt_format(theorem_format).name if theorem_format is not None else None

    async def _sample_states(self, states: Sequence[str], *, n: int, max_new_tokens: int, temperature: float,
                             top_p: float, whole_proof: bool) -> list[list[Completion]]:
        """The raw completions for each state's prompt, stopped where a tactic (or a whole proof) ends."""
        prompts = [format_prompt(self.state_format, state=state) for state in states]
        return await self.client.generate(
            prompts, n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
            stop=stop_sequences(self.state_format, whole_proof=whole_proof),
        )

    async def propose_tactics(
        self,
        states: Sequence[str],
        *,
        n: int,
        max_new_tokens: int = DEFAULT_TACTIC_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float = DEFAULT_TOP_P,
    ) -> list[Proposals[TacticCandidate]]:
        """``n`` samples per state, read as first tactics: de-duplicated, banned words dropped, best first."""
        results = await self._sample_states(states, n=n, max_new_tokens=max_new_tokens, temperature=temperature,
                                            top_p=top_p, whole_proof=False)
        return [
            Proposals(rank_tactic_candidates(completions, prompt_format=self.state_format), completions)
            for completions in results
        ]

    async def propose_proofs(
        self,
        states: Sequence[str],
        *,
        n: int,
        max_new_tokens: int = DEFAULT_PROOF_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float = DEFAULT_TOP_P,
    ) -> list[Proposals[ProofCandidate]]:
        """``n`` whole proofs per state (hybrid expansion of a leaf), split into tactics for replay."""
        results = await self._sample_states(states, n=n, max_new_tokens=max_new_tokens, temperature=temperature,
                                            top_p=top_p, whole_proof=True)
        return [
            Proposals(replayable_proofs(completions, prompt_format=self.state_format), completions)
            for completions in results
        ]

    async def propose_theorem_proofs(
        self,
        theorem_statement: str,
        *,
        n: int,
        max_new_tokens: int = DEFAULT_PROOF_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float = DEFAULT_TOP_P,
    ) -> Proposals[ProofCandidate]:
        """``n`` whole proofs continuing ``theorem … := by`` (pass@N from the root)."""
        if self.theorem_format is None:
            raise ValueError("this policy has no theorem_format; it cannot prove from a theorem statement")
        prompt = format_prompt(self.theorem_format, theorem_statement=theorem_statement)
        [completions] = await self.client.generate(
            [prompt],
            n=n,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=stop_sequences(self.theorem_format, whole_proof=True),
        )
        return Proposals(replayable_proofs(completions, prompt_format=self.theorem_format), completions)
