"""Tracing complete proofs through a verifier into (state, tactic) steps: SFT seed data that is written in the
very state format the search prompts with (the verifier's rendering of the goals, joined as the engine joins
them), and a count of what failed to replay and why.

Any engine `Verifier` works (a Pantograph pool for real Lean, minilean here). A proof is split into tactics by
the policy's own whole-proof splitter, so seed data and the search's replays agree on what a tactic is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prover.engine.backends import OutcomeKind, Verifier, VerifierError
from prover.policy.extraction import extract_proof_tactics


@dataclass(frozen=True)
class TracedStep:
    theorem: str
    state: str
    tactic: str
    depth: int


@dataclass(frozen=True)
class Trace:
    theorem: str
    steps: tuple[TracedStep, ...]
    proved: bool
    failure: str = ""  # why it did not replay: the first line of the verifier's message, or what was left


@dataclass
class TraceReport:
    traces: list[Trace] = field(default_factory=list)

    @property
    def steps(self) -> list[TracedStep]:
        return [step for trace in self.traces if trace.proved for step in trace.steps]

    def failures_by_reason(self, width: int = 60) -> Counter:
        """How many proofs failed, by the start of the reason (the to-do list for a stand-in verifier)."""
        return Counter(trace.failure[:width] for trace in self.traces if not trace.proved)

    def failures_by_tactic(self) -> Counter:
        """How many proofs failed, by the first word of the tactic that failed."""
        return Counter(trace.failure.split("`")[1].split()[0] if "`" in trace.failure else "?"
                       for trace in self.traces if not trace.proved)


def proof_tactics(proof: str, tactics: Sequence[str] = ()) -> list[str]:
    """The tactics of a released proof: its own list when it has one, else its text split as the search splits."""
    return [t for t in tactics if t.strip()] or extract_proof_tactics(proof)


async def trace_proof(verifier: Verifier, theorem: str, statement: str, tactics: Sequence[str]) -> Trace:
    """Replay `tactics` on `statement` step by step; the steps up to the proof, or where and why it stopped."""
    steps: list[TracedStep] = []
    try:
        async with verifier.open_proof(statement) as session:
            state_id = session.root_state_id
            goals = tuple(getattr(session, "root_goals", ()) or (f"⊢ {statement}",))
            for depth, tactic in enumerate(tactics):
                outcome = await session.tactic(state_id, tactic)
                if outcome.kind is OutcomeKind.FAILED:
                    message = (outcome.error or "failed").strip().splitlines()[0] if outcome.error else "failed"
                    return Trace(theorem, tuple(steps), False, f"step {depth + 1} `{tactic}`: {message}")
                steps.append(TracedStep(theorem, "\n\n".join(goals), tactic, depth))
                if outcome.kind is OutcomeKind.PROVED:
                    return Trace(theorem, tuple(steps), True)
                state_id, goals = outcome.state_id, outcome.goals
    except VerifierError as exc:
        return Trace(theorem, tuple(steps), False, f"verifier: {exc}")
    return Trace(theorem, tuple(steps), False, f"unsolved goals after {len(tactics)} tactic(s)")


async def trace_proofs(verifier: Verifier, proofs: Iterable[tuple[str, str, Sequence[str]]]) -> TraceReport:
    """Trace (theorem, statement, tactics) proofs one after the other; theorems already proved are skipped (the
    first replaying proof of a theorem is its seed data)."""
    report, proved = TraceReport(), set()
    for theorem, statement, tactics in proofs:
        if theorem in proved:
            continue
        trace = await trace_proof(verifier, theorem, statement, tactics)
        report.traces.append(trace)
        if trace.proved:
            proved.add(theorem)
    return report
