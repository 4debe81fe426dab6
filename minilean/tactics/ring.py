"""ring, ring_nf and interval_cases (docs/minilean-lean-facts.md, decision tactics).

`ring` closes an equality whose two sides have the same polynomial normal form (atoms as in `poly.py`, so
`a / a = 1` is not proved); otherwise, like Mathlib, it falls back to `ring_nf` and leaves the normalised goal
with the info `Try this: ring_nf`.
"""

from __future__ import annotations

from fractions import Fraction

from ..goals import Goal, Hyp
from ..matching import normal_rel
from ..poly import Atoms, Poly, PolyTooLarge, to_poly
from ..semantics import NotEvaluable, evaluate
from ..terms import (
    FALSE,
    INT,
    NAT,
    NUMERIC_TYPES,
    TRUE,
    App,
    BigOp,
    Cmp,
    Conn,
    Num,
    Op,
    Term,
    Var,
    free_vars,
    num,
    rebuild,
    substitute,
)
from .args import rewrite_at
from .engine import Context, TacticError, tactic
from .script import Atomic


def _poly_term(p: Poly, atoms: Atoms, ty: str) -> Term:
    """Print-ready term of a normal form: constant first, then monomials by degree, coefficient after (`x * 3`)."""
    items = sorted(p.items(), key=lambda kv: (sum(e for _, e in kv[0]), kv[0]))
    out: Term | None = None
    for mono, coeff in items:
        factor: Term | None = None
        for idx, exp in mono:
            atom = atoms.terms[idx]
            if isinstance(atom, Op) and atom.op == "inv":
                atom = Op("/", (Num(Fraction(1), ty), atom.args[0]), ty)
            base = atom if exp == 1 else Op("^", (atom, Num(Fraction(exp), NAT)), ty)
            factor = base if factor is None else Op("*", (factor, base), ty)
        magnitude = abs(coeff)
        if factor is None:
            piece = num(magnitude, ty)
        elif magnitude == 1:
            piece = factor
        else:
            piece = Op("*", (factor, num(magnitude, ty)), ty)
        if out is None:
            out = piece if coeff > 0 else Op("neg", (piece,), ty)
        else:
            out = Op("+" if coeff > 0 else "-", (out, piece), ty)
    return out if out is not None else Num(Fraction(0), ty)


def _inside_atoms(t: Term) -> Term:
    """ring_nf also normalises inside the atoms of a ring expression (the arguments of %, ℕ /, functions, …)."""
    if not t.children() or not isinstance(t, Op | App | BigOp):
        return t
    if isinstance(t, Op) and (t.op in ("+", "*", "neg", "^") or (t.op == "-" and t.ty != NAT)):
        return rebuild(t, tuple(_inside_atoms(k) for k in t.children()))
    if isinstance(t, BigOp):
        return t
    return rebuild(t, tuple(_normal_arith(k) for k in t.children()))


def _normal_arith(t: Term) -> Term:
    if t.ty not in NUMERIC_TYPES:
        return t
    atoms = Atoms()
    try:
        return _poly_term(to_poly(_inside_atoms(t), atoms), atoms, t.ty)
    except PolyTooLarge:
        return t


def ring_normal(t: Term) -> Term:
    """Normalise every maximal arithmetic subterm (ring_nf)."""
    if isinstance(t, Cmp):
        atoms = Atoms()
        try:
            lhs = _poly_term(to_poly(_inside_atoms(t.lhs), atoms), atoms, t.lhs.ty)
            rhs = _poly_term(to_poly(_inside_atoms(t.rhs), atoms), atoms, t.rhs.ty)
        except PolyTooLarge:
            return t
        if t.op in ("=", "≤", "≥") and lhs == rhs:
            return TRUE
        return Cmp(t.op, lhs, rhs)
    kids = t.children()
    if kids and not isinstance(t, Op):
        return rebuild(t, tuple(ring_normal(k) for k in kids))
    return t


def ring_equal(lhs: Term, rhs: Term) -> bool:
    atoms = Atoms()
    try:
        return to_poly(lhs, atoms) == to_poly(rhs, atoms)
    except PolyTooLarge:
        return False


@tactic("ring", "ring1", "ring!")
def ring(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    t = goal.target
    if isinstance(t, Cmp) and t.op == "=" and ring_equal(t.lhs, t.rhs):
        return []
    if node.name == "ring1":
        raise TacticError("ring failed, ring expressions not equal")
    new = ring_normal(t)
    if new == TRUE:
        return []
    if new == t:
        raise TacticError("ring failed, ring expressions not equal\n" + goal.render())
    ctx.messages.append(("information", "Try this: ring_nf"))
    return [Goal(new, goal.hyps, goal.tag)]


@tactic("ring_nf", "ring_nf!")
def ring_nf(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    target, hyps, rewritten = rewrite_at(goal, node.rest, ring_normal, "ring_nf")
    if FALSE in rewritten or target == TRUE:  # a hypothesis normalised to False, or the goal to True, closes it
        return []
    return [Goal(target, hyps, goal.tag)]


# ---------------------------------------------------------------------------------------------- interval_cases
@tactic("interval_cases")
def interval_cases(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    name = node.rest.strip()
    if not name or " " in name:
        raise TacticError("interval_cases: expected a variable (using clauses are not modelled)")
    hyp = goal.find_hyp(name)
    if hyp is None or not hyp.is_var:
        raise TacticError(f"unknown identifier '{name}'")
    if hyp.type not in (NAT, INT):
        raise TacticError(f"interval_cases failed: unsupported type {hyp.type}")
    x = hyp.var
    lower = 0 if hyp.type == NAT else None
    upper = None
    for h in goal.hyps:
        if h.is_var:
            continue
        p = normal_rel(h.type)
        if isinstance(p, Conn) and p.op == "not" and isinstance(p.args[0], Cmp) and p.args[0].op in ("<", "≤"):
            inner = p.args[0]
            p = Cmp("≤" if inner.op == "<" else "<", inner.rhs, inner.lhs)
        if not (isinstance(p, Cmp) and p.op in ("<", "≤")):
            continue
        if p.rhs == x and not free_vars(p.lhs):
            c = _int_value(p.lhs)
            if c is not None:
                c = c + 1 if p.op == "<" else c
                lower = c if lower is None else max(lower, c)
        if p.lhs == x and not free_vars(p.rhs):
            c = _int_value(p.rhs)
            if c is not None:
                c = c - 1 if p.op == "<" else c
                upper = c if upper is None else min(upper, c)
    if lower is None or upper is None:
        which = "upper" if upper is None else "lower"
        raise TacticError(f"interval_cases failed: could not find {which} bound on {name}")
    if upper - lower > 1000:
        raise TacticError("interval_cases failed: too many cases for minilean")
    out = []
    for v in range(lower, upper + 1):
        value = num(v, x.ty)
        mapping = {x.fid: value}
        hyps = tuple(Hyp(h.fid, h.name, substitute(h.type, mapping), h.inaccessible) if not h.is_var else h
                     for h in goal.hyps if h.fid != x.fid)
        out.append(Goal(substitute(goal.target, mapping), hyps, f"{goal.tag + '.' if goal.tag else ''}«{v}»"))
    return out


def _int_value(t: Term) -> int | None:
    try:
        v = evaluate(t)
    except NotEvaluable:
        return None
    if isinstance(v, Fraction):
        return int(v.numerator // v.denominator) if v.denominator == 1 else None
    return None


__all__ = ["INT", "Var", "Conn"]
