"""ring, ring_nf, field_simp and interval_cases (docs/lean-semantics.md#ring, #field_simp, #interval_cases).

`ring` closes an equality whose two sides have the same polynomial normal form (atoms as in `poly.py`, so
`a / a = 1` is not proved); otherwise, like Mathlib, it falls back to `ring_nf` and leaves the normalised goal
with the info `Try this: ring_nf`.
"""

from __future__ import annotations

from fractions import Fraction

from ..goals import Goal, Hyp
from ..lemmas import normal_rel
from ..poly import Atoms, Poly, PolyTooLarge, add, mul, to_poly
from ..semantics import NotEvaluable, evaluate
from ..terms import (
    FALSE,
    INT,
    NAT,
    RAT,
    REAL,
    TRUE,
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
from .args import rewrite_at, split_list
from .decision import _sign as sign_of
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


def ring_normal(t: Term) -> Term:
    """Normalise every maximal arithmetic subterm (ring_nf)."""
    if isinstance(t, Cmp):
        atoms = Atoms()
        try:
            lhs = _poly_term(to_poly(t.lhs, atoms), atoms, t.lhs.ty)
            rhs = _poly_term(to_poly(t.rhs, atoms), atoms, t.rhs.ty)
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


# ---------------------------------------------------------------------------------------------- field_simp
def _denominators(t: Term, out: list[Term]) -> None:
    if isinstance(t, Op) and t.op == "/" and t.ty in (RAT, REAL) and free_vars(t.args[1]):
        if t.args[1] not in out:
            out.append(t.args[1])
    for c in t.children():
        _denominators(c, out)


def _nonzero(goal: Goal, d: Term, extra: list[Term]) -> bool:
    """field_simp's discharger: assumption, numerals, positivity-style sign reasoning, hint facts."""
    hyps = [normal_rel(h.type) for h in goal.hyps if not h.is_var] + [normal_rel(x) for x in extra]
    return sign_of(d, hyps) in ("pos", "ne")


@tactic("field_simp")
def field_simp(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    from .structural import prove_term

    items, rest = split_list(node.rest.strip())
    if rest.strip():
        raise TacticError("field_simp: locations are not modelled by minilean")
    extra = [prove_term(goal, i) for i in items]
    t = goal.target
    if not (isinstance(t, Cmp) and t.op == "=" and t.lhs.ty in (RAT, REAL)):
        raise TacticError("field_simp made no progress (minilean models field_simp on equalities over ℚ and ℝ)")
    dens: list[Term] = []
    _denominators(t, dens)
    dens = [d for d in dens if _nonzero(goal, d, extra)]
    if not dens:
        raise TacticError("simp made no progress")
    # multiply both sides by every dischargeable denominator: an equivalent equation when each is ≠ 0
    atoms = Atoms()
    try:
        lhs, rhs = to_poly(t.lhs, atoms), to_poly(t.rhs, atoms)
        for d in dens:
            dp = to_poly(d, atoms)
            lhs, rhs = mul(lhs, dp), mul(rhs, dp)
            inv = atoms.get(Op("inv", (d,), d.ty))
            lhs, rhs = _cancel(lhs, inv, dp), _cancel(rhs, inv, dp)
    except PolyTooLarge:
        raise TacticError("field_simp: expression too large") from None
    if any(_mentions(p, atoms, dens) for p in (lhs, rhs)):
        raise TacticError("simp made no progress")
    if add(lhs, rhs, Fraction(-1)) == {}:
        return []
    ty = t.lhs.ty
    return [Goal(Cmp("=", _poly_term(lhs, atoms, ty), _poly_term(rhs, atoms, ty)), goal.hyps, goal.tag)]


def _cancel(p: Poly, inv_index: int, dp: Poly) -> Poly:
    """Replace d * d⁻¹ by 1 where the monomial of d is a single atom power; leave other shapes untouched."""
    out: Poly = {}
    for mono, c in p.items():
        d = dict(mono)
        if inv_index in d and len(dp) == 1:
            (dm, dc), = dp.items()
            dd = dict(dm)
            if all(d.get(k, 0) >= e for k, e in dd.items()) and dd and dc:
                # monomial contains d (as its single monomial) times d⁻¹: cancel one copy of each
                for k, e in dd.items():
                    d[k] -= e
                d[inv_index] -= 1
                c = c * dc
        key = tuple(sorted((k, e) for k, e in d.items() if e))
        out[key] = out.get(key, Fraction(0)) + c
        if not out[key]:
            del out[key]
    return out


def _mentions(p: Poly, atoms: Atoms, dens: list[Term]) -> bool:
    inv = {atoms.index.get(Op("inv", (d,), d.ty)) for d in dens}
    return any(k in inv for mono in p for k, _ in mono)


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
