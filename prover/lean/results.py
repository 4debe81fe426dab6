"""Typed results of REPL requests and the one place that decides what a `goal.tactic` answer means.

Classification order is BurnQED's, with its false-proof bug fixed (docs/lean.md#result-classification): error object,
then `parseError`, then `hasSorry`/`hasUnsafe`, then proof complete (`goals == []`), then new goals;
anything else is a failure. A reply with neither `goals` nor `nextStateId` is a failed tactic, never a
proof.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prover.lean.goals import Goal, goals_from_wire, render_goals


class Outcome(enum.Enum):
    PROOF_COMPLETE = "proof_complete"
    NEW_GOALS = "new_goals"
    PARSE_ERROR = "parse_error"
    SORRY = "sorry"
    UNSAFE = "unsafe"
    FAILED = "failed"
    ERROR = "error"  # Lean answered with an error object (bad id, interrupt, exception ...)


@dataclass(frozen=True, slots=True)
class TacticResult:
    """What one tactic did to one state.

    `state_id` is the new state (`None` on failure, and on the rare completion reply without an id);
    `feedback` is the text a policy would be shown (parse error, Lean error messages, error desc).
    """

    outcome: Outcome
    state_id: int | None = None
    goals: tuple[Goal, ...] = ()
    feedback: str = ""
    error_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.PROOF_COMPLETE, Outcome.NEW_GOALS)

    @property
    def complete(self) -> bool:
        return self.outcome is Outcome.PROOF_COMPLETE

    @property
    def interrupted(self) -> bool:
        """Lean's own cooperative timeout (`options.set {"timeout": ms}`) stopped the tactic."""
        return self.outcome is Outcome.ERROR and self.error_kind == "internal" and "interrupt" in self.feedback

    @property
    def text(self) -> str:
        return render_goals(self.goals)


def is_error_object(response: Mapping[str, Any]) -> bool:
    # Protocol.lean's design rule: no other response carries an `error` key.
    return "error" in response


def error_fields(response: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(response.get("error"))
    # PyPantograph's client-made objects use `message`; accept it so logs stay readable.
    desc = response.get("desc", response.get("message", ""))
    return kind, str(desc)


def message_texts(messages: Any, *, severity: str | None = "error") -> list[str]:
    """Texts of Lean messages; items are objects (`data`) since 0.3.4 and plain strings before."""
    texts: list[str] = []
    if not isinstance(messages, list):
        return texts
    for item in messages:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            if severity is None or item.get("severity", "error") == severity:
                texts.append(str(item.get("data", "")))
    return texts


def classify_tactic(response: Mapping[str, Any]) -> TacticResult:
    """Turn a raw `goal.tactic` reply into a `TacticResult`, in the order of docs/lean.md#result-classification."""
    if is_error_object(response):
        kind, desc = error_fields(response)
        return TacticResult(Outcome.ERROR, feedback=desc, error_kind=kind)
    if "parseError" in response:
        return TacticResult(Outcome.PARSE_ERROR, feedback=str(response["parseError"]))
    if response.get("hasSorry"):
        return TacticResult(Outcome.SORRY, feedback="the tactic's proof term contains sorry")
    if response.get("hasUnsafe"):
        return TacticResult(Outcome.UNSAFE, feedback="the tactic's proof term uses unsafe constants")
    next_id = response.get("nextStateId")
    goals = response.get("goals")
    has_goals = isinstance(goals, list)
    # Pantograph before 0.3.1 reported failures as `tacticErrors`; later ones as error-severity `messages`.
    messages, old_errors = response.get("messages"), response.get("tacticErrors")
    errors = (message_texts(messages) if messages else []) + (
        message_texts(old_errors, severity=None) if old_errors else []
    )
    if has_goals and not goals and (next_id is None or isinstance(next_id, int)):
        if errors:
            return TacticResult(Outcome.FAILED, feedback="\n".join(errors))
        return TacticResult(Outcome.PROOF_COMPLETE, state_id=next_id)
    if has_goals and isinstance(next_id, int):
        return TacticResult(
            Outcome.NEW_GOALS, state_id=next_id, goals=goals_from_wire(goals, "goal.tactic.goals")
        )
    if errors:
        return TacticResult(Outcome.FAILED, feedback="\n".join(errors))
    return TacticResult(Outcome.FAILED, feedback=f"tactic failed without a new state: {dict(response)!r}")


@dataclass(frozen=True, slots=True)
class StartResult:
    """A fresh proof state from `goal.start`. `goals` is empty when the REPL could not show them."""

    state_id: int
    root: str | None
    goals: tuple[Goal, ...]

    @property
    def text(self) -> str:
        return render_goals(self.goals)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Verdict of a whole-proof re-check through `frontend.process`.

    `ok` only if the file elaborated without error messages and without any sorry. `lost` names why
    the check could not finish (timeout, crash ...) when the verdict came from no reply at all.
    """

    ok: bool
    errors: tuple[str, ...] = ()
    has_sorry: bool = False
    messages: tuple[str, ...] = ()
    lost: str | None = None
    file: str = ""

    @property
    def reason(self) -> str:
        if self.ok:
            return "accepted"
        if self.lost:
            return f"not checked: {self.lost}"
        if self.errors:
            return "; ".join(self.errors)
        return "proof uses sorry" if self.has_sorry else "rejected"


def classify_check(response: Mapping[str, Any], *, file: str = "") -> CheckResult:
    """Judge a `frontend.process` reply: no error message and no sorry (docs/lean.md#whole-proof-check)."""
    if is_error_object(response):
        kind, desc = error_fields(response)
        return CheckResult(ok=False, errors=(f"{kind}: {desc}",), file=file)
    units = response.get("units")
    if not isinstance(units, list):
        return CheckResult(ok=False, errors=(f"no 'units' in reply: {dict(response)!r}",), file=file)
    errors: list[str] = []
    texts: list[str] = []
    has_sorry = False
    for unit in units:
        for message in unit.get("messages", []) if isinstance(unit, dict) else []:
            if isinstance(message, str):
                texts.append(message)
                severity, kind, data = "error", "", message
            else:
                severity = message.get("severity", "error")
                kind = str(message.get("kind", ""))
                data = str(message.get("data", ""))
                texts.append(f"{severity}: {data}")
            if kind == "hasSorry" or "declaration uses 'sorry'" in data:
                has_sorry = True
            if severity == "error":
                errors.append(data)
    return CheckResult(
        ok=not errors and not has_sorry, errors=tuple(errors), has_sorry=has_sorry, messages=tuple(texts), file=file
    )

