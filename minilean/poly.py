"""Polynomials over atoms with exact rational coefficients: the normal form behind ring, linarith and nlinarith.

`to_poly` reads a term the way Mathlib's `ring`/`linarith` parsers do: + - * and numeral powers are
polynomial operations; ℕ subtraction, ℕ/ℤ division and remainder, functions (abs, √, min, max) and casts
of non-polynomial terms are atoms; in ℚ and ℝ, division by a numeral is a coefficient and division by
anything else multiplies by the atom `e⁻¹`. Closed subterms are evaluated exactly (Lean semantics).
"""

from __future__ import annotations

from fractions import Fraction

from .semantics import NotEvaluable, evaluate
from .terms import INT, NAT, RAT, REAL, Num, Op, Term, Var, free_vars, num, rebuild

Monomial = tuple[tuple[int, int], ...]  # sorted (atom index, exponent)
Poly = dict[Monomial, Fraction]

MAX_DEGREE = 12
MAX_TERMS = 4000


class PolyTooLarge(Exception):
    pass


class Atoms:
    """Numbering of the atoms of a problem; the same term is always the same atom."""

    def __init__(self) -> None:
        self.index: dict[Term, int] = {}
        self.terms: list[Term] = []

    def get(self, term: Term) -> int:
        key = _canonical(term)
        if key not in self.index:
            self.index[key] = len(self.terms)
            self.terms.append(term)
        return self.index[key]


def _canonical(t: Term) -> Term:
    """An atom with its closed arithmetic arguments evaluated: `a (1 + 2)` and `a 3` are one atom (Lean's
    linarith matches atoms up to reducible defeq, which evaluates ℕ literal arithmetic)."""
    kids = t.children()
    if not kids:
        return t
    new = tuple(_evaluated(k) for k in kids)
    return t if new == kids else rebuild(t, new)


def _evaluated(t: Term) -> Term:
    if isinstance(t, Op) and t.ty in (NAT, INT) and not free_vars(t):
        v = _closed_value(t)
        if v is not None and v.denominator == 1:
            return num(v, t.ty)
    return _canonical(t)


def const(c: Fraction | int) -> Poly:
    return {(): Fraction(c)} if c else {}


def add(p: Poly, q: Poly, scale: Fraction = Fraction(1)) -> Poly:
    out = dict(p)
    for m, c in q.items():
        v = out.get(m, Fraction(0)) + scale * c
        if v:
            out[m] = v
        else:
            out.pop(m, None)
    return out


def mul(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            m = _mono_mul(m1, m2)
            v = out.get(m, Fraction(0)) + c1 * c2
            if v:
                out[m] = v
            else:
                out.pop(m, None)
    if len(out) > MAX_TERMS:
        raise PolyTooLarge()
    return out


def _mono_mul(a: Monomial, b: Monomial) -> Monomial:
    d = dict(a)
    for k, e in b:
        d[k] = d.get(k, 0) + e
    if sum(d.values()) > MAX_DEGREE * 4:
        raise PolyTooLarge()
    return tuple(sorted(d.items()))


def power(p: Poly, n: int) -> Poly:
    if n > MAX_DEGREE * 4:
        raise PolyTooLarge()
    out = const(1)
    for _ in range(n):
        out = mul(out, p)
    return out


def scale(p: Poly, c: Fraction) -> Poly:
    return {m: v * c for m, v in p.items() if v * c}


def is_const(p: Poly) -> bool:
    return all(m == () for m in p)


def const_value(p: Poly) -> Fraction:
    return p.get((), Fraction(0))


def _closed_value(t: Term) -> Fraction | None:
    if free_vars(t):
        return None
    try:
        v = evaluate(t)
    except (NotEvaluable, ZeroDivisionError):
        return None
    return v if isinstance(v, Fraction) else None


def to_poly(t: Term, atoms: Atoms, push_casts: bool = True) -> Poly:
    """Polynomial normal form of an arithmetic term over atoms."""
    value = _closed_value(t)
    if value is not None:
        return const(value)
    if isinstance(t, Num):
        return const(t.value)
    if isinstance(t, Var):
        return {((atoms.get(t), 1),): Fraction(1)}
    if isinstance(t, Op):
        a = t.args
        if t.op == "+":
            return add(to_poly(a[0], atoms, push_casts), to_poly(a[1], atoms, push_casts))
        if t.op == "-" and t.ty != NAT:
            return add(to_poly(a[0], atoms, push_casts), to_poly(a[1], atoms, push_casts), Fraction(-1))
        if t.op == "*":
            return mul(to_poly(a[0], atoms, push_casts), to_poly(a[1], atoms, push_casts))
        if t.op == "neg":
            return scale(to_poly(a[0], atoms, push_casts), Fraction(-1))
        if t.op == "^":
            n = _closed_value(a[1])
            if n is not None and n.denominator == 1 and 0 <= n <= MAX_DEGREE * 4:
                return power(to_poly(a[0], atoms, push_casts), int(n))
        if t.op == "/" and t.ty in (RAT, REAL):
            num = to_poly(a[0], atoms, push_casts)
            d = _closed_value(a[1])
            if d is not None:
                return scale(num, Fraction(1) / d) if d else {}
            return mul(num, {((atoms.get(Op("inv", (a[1],), t.ty)), 1),): Fraction(1)})
        if t.op == "cast" and push_casts:
            inner = a[0]
            if isinstance(inner, Op) and inner.op in ("+", "*", "neg") or (
                    isinstance(inner, Op) and inner.op == "-" and inner.ty != NAT) or (
                    isinstance(inner, Op) and inner.op == "^"):
                # casts commute with + * ^ (and - outside ℕ): push_cast
                pushed = Op(inner.op, tuple(_cast_arg(x, t.ty, inner.op, i) for i, x in enumerate(inner.args)), t.ty)
                return to_poly(pushed, atoms, push_casts)
            if isinstance(inner, Op) and inner.op == "cast":
                return to_poly(Op("cast", (inner.args[0],), t.ty), atoms, push_casts)
    return {((atoms.get(t), 1),): Fraction(1)}


def _cast_arg(x: Term, ty: str, op: str, i: int) -> Term:
    if op == "^" and i == 1:
        return x  # the exponent stays a natural number
    return Op("cast", (x,), ty) if x.ty != ty else x


def is_integral_type(ty: str) -> bool:
    return ty in (NAT, INT)


def monomial_degree(m: Monomial) -> int:
    return sum(e for _, e in m)
