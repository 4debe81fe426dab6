"""Tactics that move facts between the context and the goal: specialize, revert, contrapose, contrapose!.

- `specialize h a b` replaces `h : ∀ x y, P x y` (or an implication) by the instance `h a b`.
- `revert h` (or a variable, with the hypotheses about it) puts it back into the goal as a premise or ∀ binder.
- `contrapose h` turns goal `P` with `h : Q` into goal `¬Q` with `h : ¬P`; `contrapose!` then pushes negations.
Each step replaces the goal by one that implies it (or is equivalent), so none can make a false goal provable.
"""

from __future__ import annotations

from ..goals import Goal, Hyp
from ..terms import Conn, Imp, Quant, Term, free_vars
from .engine import Context, TacticError, tactic
from .script import Atomic
from .simplify import push_neg_prop
from .structural import prove_term


@tactic("specialize")
def specialize(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    name = text.split(None, 1)[0] if text else ""
    hyp = goal.find_hyp(name)
    if hyp is None or hyp.is_var:
        raise TacticError(f"specialize: '{name}' is not a hypothesis")
    if text == name:
        raise TacticError("specialize: expected arguments")
    prop = prove_term(goal, text, ctx)
    hyps = [Hyp(h.fid, h.name, prop, h.inaccessible) if h.fid == hyp.fid else h for h in goal.hyps]
    return [Goal(goal.target, tuple(hyps), goal.tag)]


@tactic("revert")
def revert(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    names = node.rest.split()
    if not names:
        raise TacticError("revert: expected hypotheses")
    chosen = set()
    for name in names:
        hyp = goal.find_hyp(name)
        if hyp is None:
            raise TacticError(f"unknown hypothesis '{name}'")
        chosen.add(hyp.fid)
    # a reverted variable takes the later hypotheses about it along, as in Lean
    for h in goal.hyps:
        if not h.is_var and free_vars(h.type) & chosen:
            chosen.add(h.fid)
    target: Term = goal.target
    for h in reversed(goal.hyps):
        if h.fid not in chosen:
            continue
        if h.is_var:
            if "→" in h.type:
                raise TacticError("revert: minilean does not revert function variables")
            target = Quant("∀", h.fid, h.name, h.type, target)
        else:
            target = Imp(h.type, target, h.name)  # type: ignore[arg-type]
    hyps = tuple(h for h in goal.hyps if h.fid not in chosen)
    return [Goal(target, hyps, goal.tag)]


@tactic("contrapose", "contrapose!")
def contrapose(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    name = node.rest.strip()
    if not name:
        t = goal.target
        if not isinstance(t, Imp):
            raise TacticError("contrapose: the goal is not an implication")
        lhs, rhs = Conn("not", (t.rhs,)), Conn("not", (t.lhs,))
        if node.name == "contrapose!":
            lhs, rhs = push_neg_prop(lhs), push_neg_prop(rhs)
        return [Goal(Imp(lhs, rhs, t.name), goal.hyps, goal.tag)]
    hyp = goal.find_hyp(name.split()[0])
    if hyp is None or hyp.is_var:
        raise TacticError(f"contrapose: '{name}' is not a hypothesis")
    new_hyp: Term = Conn("not", (goal.target,))
    new_target: Term = Conn("not", (hyp.type,))  # type: ignore[arg-type]
    if node.name == "contrapose!":
        new_hyp, new_target = push_neg_prop(new_hyp), push_neg_prop(new_target)
    hyps = tuple(h for h in goal.hyps if h.fid != hyp.fid) + (Hyp(hyp.fid, hyp.name, new_hyp, hyp.inaccessible),)
    return [Goal(new_target, hyps, goal.tag)]
