"""Instant in-process backends: a verifier and a policy driven by tables, and synthetic ones for budgets.

They let the engine be unit-tested and benchmarked without processes or models. They implement the same
protocols as the real adapters (`backends.py`); nothing in the engine knows which one it talks to.
An optional `latency_s` makes every call sleep, to measure the engine's own share of wall time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from prover.engine.backends import Candidate, ProofCheck, Sample, StateLostError, TacticOutcome, VerifierError
from prover.engine.context import root_goal_text

# A table rule: the goals a tactic leaves (a non-empty sequence), None for "proof complete", or an
# Exception instance that the verifier raises (to model a crashed process).
Rule = Sequence[str] | None | Exception


class _TableSession:
    def __init__(self, verifier: TableVerifier, root: tuple[str, ...]) -> None:
        self._verifier = verifier
        self._root = root
        self._states: list[tuple[str, ...]] = [root]
        self.restarts = 0

    @property
    def root_state_id(self) -> int:
        return 0

    async def restart(self) -> int:
        """A fresh process: every earlier state id is gone (ids are reused from 0, as Pantograph's are)."""
        self.restarts += 1
        self._states = [self._root]
        return 0

    async def tactic(self, state_id: int, tactic: str) -> TacticOutcome:
        if self._verifier.latency_s:
            await asyncio.sleep(self._verifier.latency_s)
        self._verifier.calls += 1
        if not 0 <= state_id < len(self._states):
            raise VerifierError(f"unknown state id {state_id}")
        goals = self._states[state_id]
        rules = self._verifier.rules.get("\n\n".join(goals), {})
        key = " ".join(tactic.split())
        if key not in rules:
            return TacticOutcome.failed(f"tactic {key!r} failed on state {state_id}")
        rule = rules[key]
        if isinstance(rule, Exception):
            if isinstance(rule, StateLostError):
                self._states = []  # the process is gone, and its states with it
            raise rule
        if rule is None:
            return TacticOutcome.proved(len(self._states))
        self._states.append(tuple(rule))
        return TacticOutcome.new_goals(len(self._states) - 1, tuple(rule))


class TableVerifier:
    """States are goal-text tuples; `rules[state_text][tactic]` says what the tactic does there."""

    def __init__(self, rules: Mapping[str, Mapping[str, Rule]], *, latency_s: float = 0.0,
                 reject_statements: Sequence[str] = ()) -> None:
        self.rules = {state: {" ".join(t.split()): r for t, r in table.items()} for state, table in rules.items()}
        self.latency_s = latency_s
        self.reject_statements = set(reject_statements)
        self.calls = 0
        self.checks: list[tuple[str, list[str]]] = []

    @asynccontextmanager
    async def open_proof(self, statement: str) -> AsyncIterator[_TableSession]:
        if statement in self.reject_statements:
            raise VerifierError(f"could not start a proof of {statement!r}: parse error")
        yield _TableSession(self, (root_goal_text(statement),))

    async def check_proof(self, statement: str, tactics: Sequence[str]) -> ProofCheck:
        self.checks.append((statement, list(tactics)))
        session = _TableSession(self, (root_goal_text(statement),))
        state = 0
        for i, tactic in enumerate(tactics):
            outcome = await session.tactic(state, tactic)
            if outcome.kind == "proved":
                return ProofCheck(i == len(tactics) - 1, "" if i == len(tactics) - 1 else "proof ends early")
            if outcome.kind == "failed":
                return ProofCheck(False, outcome.error)
            state = outcome.state_id or 0
        return ProofCheck(False, "goals remain after the last tactic")


class ScriptedPolicy:
    """Proposes the tactics / whole proofs listed for each state, with their log-probs, in order."""

    def __init__(self, tactics: Mapping[str, Sequence[tuple[str, float]]] | None = None,
                 proofs: Mapping[str, Sequence[tuple[str, float]]] | None = None, *, latency_s: float = 0.0,
                 tokens_per_completion: int = 10) -> None:
        self.tactics = dict(tactics or {})
        self.proofs = dict(proofs or {})
        self.latency_s = latency_s
        self.tokens_per_completion = tokens_per_completion
        self.calls: list[tuple[str, int, int, float]] = []

    def _sample(self, candidates: list[Candidate]) -> Sample:
        return Sample(candidates, len(candidates), prompt_tokens=5 * len(candidates),
                      completion_tokens=self.tokens_per_completion * len(candidates))

    async def propose_tactics(self, states: Sequence[str], n: int, *, max_tokens: int, temperature: float,
                              top_p: float) -> list[Sample]:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        out = []
        for state in states:
            self.calls.append((state, n, max_tokens, temperature))
            ranked = sorted(self.tactics.get(state, []), key=lambda c: -c[1])[:n]
            out.append(self._sample([Candidate(t, lp) for t, lp in ranked]))
        return out

    async def propose_proofs(self, state: str, n: int, *, max_tokens: int, temperature: float,
                             top_p: float) -> Sample:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        self.calls.append((state, n, max_tokens, temperature))
        proofs = list(self.proofs.get(state, []))[:n]
        return self._sample([Candidate(t, lp, split_lines(t)) for t, lp in proofs])


def split_lines(text: str) -> tuple[str, ...]:
    """The in-process policies' proof format: one tactic per non-blank line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class FunctionScorer:
    """Energies from a plain function of the state text; `fail=True` makes every call raise."""

    def __init__(self, energy: Callable[[str], float], *, fail: bool = False, latency_s: float = 0.0) -> None:
        self.energy = energy
        self.fail = fail
        self.latency_s = latency_s
        self.calls: list[list[str]] = []

    async def score(self, states: Sequence[str], goal: str) -> list[float]:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        self.calls.append(list(states))
        if self.fail:
            raise RuntimeError("scorer unavailable")
        return [self.energy(s) for s in states]


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=6).hexdigest()


class _SyntheticSession:
    def __init__(self, verifier: SyntheticVerifier) -> None:
        self._verifier = verifier
        self._states: list[str] = ["⊢ root"]

    @property
    def root_state_id(self) -> int:
        return 0

    async def tactic(self, state_id: int, tactic: str) -> TacticOutcome:
        if self._verifier.latency_s:
            await asyncio.sleep(self._verifier.latency_s)
        state = self._states[state_id]
        digest = _digest(state, tactic)
        if int(digest[:2], 16) < 256 * self._verifier.failure_rate:
            return TacticOutcome.failed("synthetic failure")
        self._states.append(f"⊢ s{digest}")
        return TacticOutcome.new_goals(len(self._states) - 1, (self._states[-1],))


class SyntheticVerifier:
    """An endless, proof-free space of states: every tactic yields a fresh state (or fails at a fixed rate).

    Searches over it run until a budget stops them, which is what budget tests and the overhead
    benchmark need.
    """

    def __init__(self, *, latency_s: float = 0.0, failure_rate: float = 0.25) -> None:
        self.latency_s = latency_s
        self.failure_rate = failure_rate

    @asynccontextmanager
    async def open_proof(self, statement: str) -> AsyncIterator[_SyntheticSession]:
        yield _SyntheticSession(self)

    async def check_proof(self, statement: str, tactics: Sequence[str]) -> ProofCheck:
        return ProofCheck(False, "the synthetic space has no proofs")


class SyntheticPolicy:
    """Proposes `tactic_i` for i < n with decreasing log-probs; whole proofs are chains of such tactics."""

    def __init__(self, *, latency_s: float = 0.0, proof_length: int = 4) -> None:
        self.latency_s = latency_s
        self.proof_length = proof_length

    async def propose_tactics(self, states: Sequence[str], n: int, *, max_tokens: int, temperature: float,
                              top_p: float) -> list[Sample]:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return [Sample([Candidate(f"tactic_{i}", -0.1 * (i + 1)) for i in range(n)], n, 20 * n, 8 * n)
                for _ in states]

    async def propose_proofs(self, state: str, n: int, *, max_tokens: int, temperature: float,
                             top_p: float) -> Sample:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        proofs = []
        for i in range(n):
            tactics = tuple(f"tactic_{i}_{j}" for j in range(self.proof_length))
            proofs.append(Candidate("\n".join(tactics), -1.0 - i, tactics))
        return Sample(proofs, n, 20 * n, 32 * n)
