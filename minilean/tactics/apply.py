"""apply / exact? style unification with a lemma or hypothesis (docs/minilean-lean-facts.md, structural tactics).

`apply e` unifies the conclusion of `e` (a Mathlib lemma of the table or a hypothesis, possibly partly applied,
`_`/`?_` for arguments to become goals) with the goal, trying the conclusion after each of its premises as Lean
does, and returns one goal per hypothesis parameter left, tagged with the parameter's name. A parameter that
the unification does not fix would be a metavariable in Lean; minilean refuses such an `apply`.
"""

from __future__ import annotations

from ..elab import ElabError
from ..goals import Goal
from ..matching import instantiate, match
from ..parser import ParseError, parse_term
from ..schemas import Param
from ..terms import Imp, pretty
from .engine import Context, TacticError, tactic
from .script import Atomic
from .structural import by_runner, elab_error, proof_elaborator


@tactic("apply")
def apply(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    if not text:
        raise TacticError("apply: expected a term")
    try:
        apps = proof_elaborator(goal, ctx).applications(parse_term(text), negation_as_arrow=True)
    except (ParseError, ElabError) as exc:
        raise elab_error(exc) from None
    for app in apps:
        conclusion, premises = app.schema.conclusion, list(app.remaining)
        while True:
            b = match(conclusion, goal.target, app.schema.patvars, app.bindings)
            if b is not None or not isinstance(conclusion, Imp):
                break
            premises.append(Param(conclusion.name, True, prop=conclusion.lhs))
            conclusion = conclusion.rhs
        if b is None:
            continue
        if set(app.schema.patvars) - set(b):
            raise TacticError(f"apply {text}: minilean cannot fix every parameter of the lemma from the goal "
                              "(Lean would leave metavariables); give them explicitly")
        run_by = by_runner(goal, ctx)
        out = []
        for p in premises:
            if p.prop is None:
                continue
            prop = instantiate(p.prop, b)
            if p.name in app.tactics:
                run_by(app.tactics[p.name], prop)
            else:
                out.append(Goal(prop, goal.hyps, p.name))
        return out
    raise TacticError(f"apply failed: the conclusion of {text} does not unify with the goal\n"
                      f"  {pretty(goal.target, goal.display_names())}")
