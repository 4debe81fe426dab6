"""Cast tactics: push_cast, norm_cast, exact_mod_cast, assumption_mod_cast (docs/minilean-lean-facts.md, casts).

Casts are pushed to the leaves through + * ^ (and - outside ℕ), numeral casts become numerals, double casts
compose; then a comparison whose two sides are built only from casts of one smaller type and numerals is
moved down to that type (`(↑a : ℝ) + ↑b < 10` becomes `a + b < 10`). ℕ subtraction and division are never
moved through a cast, because that needs side conditions.
"""

from __future__ import annotations

from fractions import Fraction

from ..goals import Goal, Hyp
from ..matching import same_prop
from ..proof_terms import is_syntactic_refl
from ..semantics import decide_value
from ..terms import NAT, TYPE_RANK, Cmp, Num, Op, Term, Var, pretty, rebuild
from .args import split_location
from .engine import Context, TacticError, tactic
from .script import Atomic
from .structural import prove_term


def push_casts(t: Term) -> Term:
    kids = t.children()
    if kids:
        t = rebuild(t, tuple(push_casts(k) for k in kids))
    if isinstance(t, Op) and t.op == "cast":
        inner = t.args[0]
        if isinstance(inner, Num):
            return Num(inner.value, t.ty, inner.sci)
        if isinstance(inner, Op) and inner.op == "cast":
            return push_casts(Op("cast", (inner.args[0],), t.ty))
        if isinstance(inner, Op) and (inner.op in ("+", "*", "neg") or (inner.op == "-" and inner.ty != NAT)):
            return Op(inner.op, tuple(push_casts(Op("cast", (a,), t.ty)) for a in inner.args), t.ty)
        if isinstance(inner, Op) and inner.op == "^":
            return Op("^", (push_casts(Op("cast", (inner.args[0],), t.ty)), inner.args[1]), t.ty)
    return t


def _lower(t: Term, ty: str) -> Term | None:
    """The same value as a term of the smaller type `ty`, if `t` is made of casts from `ty` and numerals."""
    if isinstance(t, Op) and t.op == "cast" and t.args[0].ty == ty:
        return t.args[0]
    if isinstance(t, Num):
        if ty == NAT or t.value.denominator == 1 or ty not in ("ℕ", "ℤ"):
            return Num(t.value, ty, t.sci) if t.value.denominator == 1 or ty not in ("ℕ", "ℤ") else None
        return None
    if isinstance(t, Op) and t.op in ("+", "*") or (isinstance(t, Op) and t.op in ("-", "neg") and ty != NAT):
        parts = [_lower(a, ty) for a in t.args]
        if any(p is None for p in parts):
            return None
        return Op(t.op, tuple(parts), ty)
    if isinstance(t, Op) and t.op == "^":
        base = _lower(t.args[0], ty)
        return None if base is None else Op("^", (base, t.args[1]), ty)
    return None


def _source_types(t: Term, out: set[str]) -> None:
    if isinstance(t, Op) and t.op == "cast":
        out.add(t.args[0].ty)
        return
    if isinstance(t, Var):
        out.add(t.ty)
    for c in t.children():
        _source_types(c, out)


def norm_casts(t: Term) -> Term:
    t = push_casts(t)
    kids = t.children()
    if kids and not isinstance(t, Cmp):
        t = rebuild(t, tuple(norm_casts(k) for k in kids))
    if isinstance(t, Cmp):
        sources: set[str] = set()
        _source_types(t.lhs, sources)
        _source_types(t.rhs, sources)
        candidates = sorted((s for s in sources if TYPE_RANK[s] < TYPE_RANK[t.lhs.ty]), key=lambda s: TYPE_RANK[s])
        for ty in candidates:
            lhs, rhs = _lower(t.lhs, ty), _lower(t.rhs, ty)
            if lhs is not None and rhs is not None:
                return norm_casts(Cmp(t.op, lhs, rhs))
    return t


@tactic("push_cast")
def push_cast(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    new = push_casts(goal.target)
    if new == goal.target:
        raise TacticError("push_cast made no progress")  # simp-based: unchanged is an error
    return [Goal(new, goal.hyps, goal.tag)]


@tactic("norm_cast")
def norm_cast(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    """Move casts up and compare in the smaller type, at the goal or `at h`; then `trivial` (rfl, decide,
    assumption up to casts)."""
    rest = node.rest.strip()
    if rest:
        _, locations, at_goal = split_location(rest)
        if locations is None:
            raise TacticError(f"norm_cast: unsupported arguments '{rest}'")
        names = [h.name for h in goal.hyps if not h.is_var] if locations == ["*"] else locations
        hyps = list(goal.hyps)
        changed = False
        for name in names:
            h = goal.find_hyp(name)
            if h is None or h.is_var:
                raise TacticError(f"unknown hypothesis '{name}'")
            new = norm_casts(h.type)
            if new != h.type:
                changed = True
                if decide_value(new) is False:
                    return []
                hyps = [Hyp(x.fid, x.name, new, x.inaccessible) if x.fid == h.fid else x for x in hyps]
        goal = Goal(goal.target, tuple(hyps), goal.tag)
        if not at_goal:
            if not changed:
                raise TacticError("norm_cast made no progress")
            return [goal]
    new = norm_casts(goal.target)
    if decide_value(new) is True or is_syntactic_refl(new):
        return []
    for h in goal.hyps:
        if not h.is_var and same_prop(norm_casts(h.type), new):
            return []
    if new == goal.target and not rest:
        raise TacticError("norm_cast made no progress")
    return [Goal(new, goal.hyps, goal.tag)]


@tactic("exact_mod_cast")
def exact_mod_cast(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    if text.startswith("(by ") and text.endswith(")") or text.startswith("by "):
        # a `by` block is elaborated against the goal with its casts normalised
        inner = text[1:-1].strip() if text.startswith("(") else text
        prove_term(goal, f"show {pretty(norm_casts(goal.target), goal.display_names())} {inner}", ctx)
        return []
    proof = prove_term(goal, text, ctx)
    if same_prop(norm_casts(proof), norm_casts(goal.target)):
        return []
    raise TacticError("type mismatch (exact_mod_cast): the hypothesis and the goal differ beyond casts")


@tactic("assumption_mod_cast")
def assumption_mod_cast(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    target = norm_casts(goal.target)
    for h in goal.hyps:
        if not h.is_var and same_prop(norm_casts(h.type), target):
            return []
    raise TacticError("assumption_mod_cast failed")


__all__ = ["Fraction"]
