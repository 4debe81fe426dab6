"""Run parsed tactic scripts over goal lists with Lean's goal-list discipline.

A plain tactic acts on the main (first) goal and its new goals replace it at the front of the list;
`t <;> s` runs `s` on every goal `t` produced; `·` must close the goal it focuses on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..goals import Goal, render_goals
from ..parser import ParseError
from ..terms import ill_typed
from .script import Atomic, Combinator, First, Then


class TacticError(Exception):
    """The tactic failed; Lean reports this as an error message, the state stays as it was."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Interrupted(Exception):
    """The REPL `timeout` option expired (Pantograph answers {"error":"internal","desc":"interrupt"})."""


@dataclass
class Context:
    """Per-request settings and side results of running a tactic."""

    timeout_ms: int = 0  # the REPL option; 0 means none
    solver_ms: int = 5000  # per-call limit of a decision procedure when no REPL timeout is set
    started: float = field(default_factory=time.monotonic)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (severity, text)
    has_sorry: bool = False
    sorry_goals: list = field(default_factory=list)  # goals closed by `sorry` (frontend.process `sorrys`)
    # Lean/Mathlib era whose behaviour differs (docs/minilean-lean-facts.md, versions): before 2025 norm_num did
    # not fail when it changed nothing; in 2023 `rw`'s closing rfl decided literal arithmetic and simp used
    # `decide`. The default is the newest behaviour.
    mathlib: int = 2025
    era_rule_used: bool = False  # set when a pre-2025 rule decided the outcome (counted by --check)

    def remaining_ms(self) -> int:
        """Time a solver call may take: the per-tactic limit, capped by what the REPL timeout leaves."""
        if not self.timeout_ms:
            return self.solver_ms
        left = self.timeout_ms - int((time.monotonic() - self.started) * 1000)
        if left <= 0:
            raise Interrupted()
        return max(1, min(left, self.solver_ms))

    def check_interrupt(self) -> None:
        if self.timeout_ms and (time.monotonic() - self.started) * 1000 > self.timeout_ms:
            raise Interrupted()


TacticFn = Callable[[Goal, Atomic, Context], list[Goal]]
MultiGoalFn = Callable[[list[Goal], Atomic, Context], list[Goal]]

TACTICS: dict[str, TacticFn] = {}
MULTI_GOAL_TACTICS: dict[str, MultiGoalFn] = {}


def tactic(*names: str):
    def register(fn: TacticFn) -> TacticFn:
        for name in names:
            TACTICS[name] = fn
        return fn

    return register


def multi_goal_tactic(*names: str):
    def register(fn: MultiGoalFn) -> MultiGoalFn:
        for name in names:
            MULTI_GOAL_TACTICS[name] = fn
        return fn

    return register


def run_seq(nodes: tuple, goals: list[Goal], ctx: Context) -> list[Goal]:
    for node in nodes:
        goals = run_node(node, goals, ctx)
    return goals


def run_node(node, goals: list[Goal], ctx: Context) -> list[Goal]:
    ctx.check_interrupt()
    if isinstance(node, Atomic):
        if node.name in MULTI_GOAL_TACTICS:
            return MULTI_GOAL_TACTICS[node.name](goals, node, ctx)
        if not goals:
            raise TacticError("no goals to be solved")
        fn = TACTICS.get(node.name)
        if fn is None:
            raise TacticError(f"unknown tactic '{node.name}' (not modelled by minilean)")
        try:
            produced = fn(goals[0], node, ctx)
        except (TacticError, Interrupted, ParseError):
            raise
        except (TypeError, KeyError, AttributeError, ValueError, IndexError, RecursionError, ZeroDivisionError) as exc:
            # an internal error is never a new state: the tactic fails
            raise TacticError(f"minilean internal error in {node.name}: {type(exc).__name__}: {exc}") from None
        _check_well_typed(produced, goals[0])
        return produced + goals[1:]
    if isinstance(node, Then):
        if not goals:
            raise TacticError("no goals to be solved")
        produced = run_node(node.first, [goals[0]], ctx)
        out: list[Goal] = []
        for goal in produced:
            out.extend(run_node(node.then, [goal], ctx))
        return out + goals[1:]
    if isinstance(node, First):
        errors = []
        for alternative in node.alternatives:
            try:
                return run_seq(alternative, goals, ctx)
            except TacticError as exc:
                errors.append(exc.message)
        raise TacticError(errors[-1] if errors else "first: no alternative")
    if isinstance(node, Combinator):
        return _combinator(node, goals, ctx)
    raise TacticError(f"unsupported tactic node {node!r}")


def _check_well_typed(produced: list[Goal], before: Goal) -> None:
    """An unsure tactic fails: a goal with an ill-typed term is an internal error, never a new state."""
    known = {h.fid: h.type for h in before.hyps}
    for goal in produced:
        for term in [goal.target] + [h.type for h in goal.hyps if not h.is_var and known.get(h.fid) != h.type]:
            bad = ill_typed(term)
            if bad is not None:
                raise TacticError(f"minilean internal error: ill-typed term {bad!r}; the tactic is refused")


def _combinator(node: Combinator, goals: list[Goal], ctx: Context) -> list[Goal]:
    kind = node.kind
    if kind == "paren":
        return run_seq(node.body, goals, ctx)
    if kind == "focus":
        if not goals:
            raise TacticError("no goals to be solved")
        rest = run_seq(node.body, [goals[0]], ctx)
        if rest:
            raise TacticError("unsolved goals\n" + render_goals(rest))
        return goals[1:]
    if kind == "try":
        try:
            return run_seq(node.body, goals, ctx)
        except TacticError:
            return goals
    if kind == "all_goals":
        out: list[Goal] = []
        for goal in goals:
            out.extend(run_seq(node.body, [goal], ctx))
        return out
    if kind == "any_goals":
        out, progressed = [], False
        for goal in goals:
            try:
                out.extend(run_seq(node.body, [goal], ctx))
                progressed = True
            except TacticError:
                out.append(goal)
        if not progressed:
            raise TacticError("any_goals failed on every goal")
        return out
    if kind == "repeat":
        for _ in range(64):
            try:
                new = run_seq(node.body, goals, ctx)
            except TacticError:
                return goals
            if new == goals:
                return goals
            goals = new
        return goals
    raise TacticError(f"unsupported combinator {kind}")
