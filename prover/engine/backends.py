"""The engine's view of the outside world: a verifier, a policy and a value scorer, as small protocols.

The engine is written against these protocols only. `adapters.py` maps them onto the real packages
(prover.lean pool, prover.policy client, prover.value scorer); `inprocess.py` provides instant in-process
implementations for unit tests and the overhead benchmark. Swapping one for the other is configuration.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class VerifierError(RuntimeError):
    """The verifier itself broke (timeout, dead process, protocol error): every state id is now invalid.

    A tactic that Lean rejects is not an error; it is a `TacticOutcome` of kind FAILED.
    """


class StateLostError(VerifierError):
    """The verifier process was replaced (tactic timeout, crash, memory cap): its state ids are gone, but
    the session can `restart()` on the new process and the engine can rebuild the states it needs."""


class PolicyBackendError(RuntimeError):
    """The policy server failed to return completions; the theorem's search ends with reason `error`."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something to try: one tactic (best-first), or a whole proof already split into `tactics` (hybrid)."""

    text: str
    log_prob: float
    tactics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    """What one prompt's sampling gave: the candidates, and what ALL its completions cost.

    The counts include completions the policy dropped (empty, duplicate, banned words), so budgets are
    charged what the server actually spent.
    """

    candidates: list[Candidate]
    completions: int
    prompt_tokens: int = 0
    completion_tokens: int = 0


class OutcomeKind(enum.StrEnum):
    FAILED = "failed"
    PROVED = "proved"
    GOALS = "goals"


@dataclass(frozen=True, slots=True)
class TacticOutcome:
    """What applying one tactic to one proof state gave.

    `goals` are the remaining goals, each rendered canonically (`hyp : type` lines, then `⊢ target`).
    Two states are the same state exactly when their goals join to the same text.
    """

    kind: OutcomeKind
    state_id: int | None = None
    goals: tuple[str, ...] = ()
    error: str = ""

    @classmethod
    def failed(cls, error: str) -> TacticOutcome:
        return cls(OutcomeKind.FAILED, error=error)

    @classmethod
    def proved(cls, state_id: int | None = None) -> TacticOutcome:
        return cls(OutcomeKind.PROVED, state_id=state_id)

    @classmethod
    def new_goals(cls, state_id: int, goals: Sequence[str]) -> TacticOutcome:
        if not goals:
            raise ValueError("TacticOutcome.new_goals needs at least one goal; use proved() for none")
        return cls(OutcomeKind.GOALS, state_id=state_id, goals=tuple(goals))


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The verdict of re-checking a whole proof in a fresh process."""

    ok: bool
    message: str = ""


@runtime_checkable
class ProofSession(Protocol):
    """One theorem's proof, bound to one verifier process (state ids are process-local).

    A session may also have `root_goals: tuple[str, ...]`, the verifier's rendering of the started goal;
    the engine then uses it as the root state text instead of `⊢ statement`. A session whose `tactic` may
    raise StateLostError should have `async def restart(self) -> int` (start the theorem again on the new
    process, returning the new root state id); without it a lost state ends the search with `error`.
    """

    @property
    def root_state_id(self) -> int: ...

    async def tactic(self, state_id: int, tactic: str) -> TacticOutcome: ...


@runtime_checkable
class Verifier(Protocol):
    def open_proof(self, statement: str) -> AbstractAsyncContextManager[ProofSession]:
        """Start a proof of `statement`; raises VerifierError if the statement cannot be started."""
        ...

    async def check_proof(self, statement: str, tactics: Sequence[str]) -> ProofCheck:
        """Re-check `tactics` as one whole proof of `statement` in a fresh process."""
        ...


@runtime_checkable
class PolicyBackend(Protocol):
    async def propose_tactics(
        self, states: Sequence[str], n: int, *, max_tokens: int, temperature: float, top_p: float
    ) -> list[Sample]:
        """For each state, n samples read as distinct next tactics, best log-prob first."""
        ...

    async def propose_proofs(
        self, state: str, n: int, *, max_tokens: int, temperature: float, top_p: float
    ) -> Sample:
        """n whole-proof samples from `state`, each split into tactics, in sampling order (no dedupe)."""
        ...


@runtime_checkable
class Scorer(Protocol):
    async def score(self, states: Sequence[str], goal: str) -> list[float]:
        """Energies of `states` given the theorem's root `goal`; lower = more provable."""
        ...


@dataclass(frozen=True, slots=True)
class Backends:
    verifier: Verifier
    policy: PolicyBackend
    scorer: Scorer | None = None
