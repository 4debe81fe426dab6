"""Proof goals and their one canonical text.

Prompts, the value model and search dedupe all read goals through `render_goals`, so a state looks
the same wherever it appears: one `name : type` line per hypothesis (each listed separately, as
Pantograph sends them; let-bound ones as `name : type := value`), then `⊢ target`; several goals are
joined by a blank line. Case tags are left out on purpose: two states with the same hypotheses and
targets are the same search node whatever Lean called the branch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prover.lean.errors import LeanLayerError

TURNSTILE = "⊢"


class GoalFormatError(LeanLayerError, ValueError):
    """A goal object from the REPL lacks a field the protocol says is always there."""


@dataclass(frozen=True, slots=True)
class Variable:
    """One hypothesis of a goal's local context."""

    name: str
    type: str
    value: str | None = None
    inaccessible: bool = False

    def render(self) -> str:
        line = f"{self.name} : {self.type}"
        return f"{line} := {self.value}" if self.value is not None else line


@dataclass(frozen=True, slots=True)
class Goal:
    """One open goal: its hypotheses and its target (without the turnstile)."""

    target: str
    variables: tuple[Variable, ...] = ()
    case: str | None = None
    mvar: str | None = None

    def render(self) -> str:
        lines = [v.render() for v in self.variables]
        lines.append(f"{TURNSTILE} {self.target}")
        return "\n".join(lines)


def render_goals(goals: Iterable[Goal]) -> str:
    """The canonical text of a proof state; `""` for a state with no goals (a finished proof)."""
    return "\n\n".join(goal.render() for goal in goals)


_BLANKS = re.compile(r"[ \t\r\f\v]+")


def normalise_goal_text(text: str) -> str:
    """Whitespace-insensitive form of a rendered state: Lean's line breaking inside long types varies."""
    lines = (_BLANKS.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def goal_key(goals: Iterable[Goal] | str) -> str:
    """A stable hash that identifies a proof state for deduplication (hex, 32 characters).

    Accepts goals or already rendered text; both give the same key for the same state.
    """
    text = goals if isinstance(goals, str) else render_goals(goals)
    return hashlib.blake2b(normalise_goal_text(text).encode("utf-8"), digest_size=16).hexdigest()


def _pretty(expression: Any, where: str) -> str:
    # Pantograph sends {"pp": ...} unless printExprPretty was turned off; old builds sent plain strings.
    if isinstance(expression, str):
        return expression
    if isinstance(expression, dict):
        pp = expression.get("pp")
        if isinstance(pp, str):
            return pp
        raise GoalFormatError(f"{where}: expression has no 'pp' text (printExprPretty off?): {expression!r}")
    raise GoalFormatError(f"{where}: expected an expression object, got {expression!r}")


def variable_from_wire(obj: Any, where: str = "variable") -> Variable:
    """Build a `Variable` from Pantograph's JSON (keys `userName`, `type`, `value`, `isInaccessible`)."""
    if not isinstance(obj, dict):
        raise GoalFormatError(f"{where}: expected an object, got {obj!r}")
    name = obj.get("userName")
    if not isinstance(name, str):
        raise GoalFormatError(f"{where}: missing 'userName' in {obj!r}")
    # `type` is omitted only under the noRepeat option; '?' keeps the line readable rather than failing.
    type_text = _pretty(obj["type"], f"{where}.type") if obj.get("type") is not None else "?"
    value = _pretty(obj["value"], f"{where}.value") if obj.get("value") is not None else None
    return Variable(name=name, type=type_text, value=value, inaccessible=bool(obj.get("isInaccessible", False)))


def goal_from_wire(obj: Any, where: str = "goal") -> Goal:
    """Build a `Goal` from Pantograph's JSON (`target`, `vars`, optional `userName`, `name`)."""
    if not isinstance(obj, dict):
        raise GoalFormatError(f"{where}: expected an object, got {obj!r}")
    if "target" not in obj:
        raise GoalFormatError(f"{where}: missing 'target' in {obj!r}")
    raw_vars = obj.get("vars", [])
    if not isinstance(raw_vars, list):
        raise GoalFormatError(f"{where}: 'vars' must be a list, got {raw_vars!r}")
    variables = tuple(variable_from_wire(v, f"{where}.vars[{i}]") for i, v in enumerate(raw_vars))
    case = obj.get("userName")
    mvar = obj.get("name")
    return Goal(
        target=_pretty(obj["target"], f"{where}.target"),
        variables=variables,
        case=case if isinstance(case, str) else None,
        mvar=mvar if isinstance(mvar, str) else None,
    )


def goals_from_wire(objs: Any, where: str = "goals") -> tuple[Goal, ...]:
    if not isinstance(objs, list):
        raise GoalFormatError(f"{where}: expected a list, got {objs!r}")
    return tuple(goal_from_wire(g, f"{where}[{i}]") for i, g in enumerate(objs))
