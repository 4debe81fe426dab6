"""Rational functions over atoms, `numerator / denominator`: the normal form behind field_simp.

A field term is read as `N / D` where N and D are polynomials (`poly.py`) and D is a product of the
denominators the caller proved nonzero (or positive). Division by a denominator that could not be discharged
stays an atom `d⁻¹` inside N, exactly as `poly.to_poly` reads it, so the value of `N / D` is always the value of
the term: with every cleared denominator nonzero, `N₁ / D₁ = N₂ / D₂` is equivalent to `N₁ * D₂ = N₂ * D₁`
(and, when they are all positive, the same holds for `<` and `≤`). docs/minilean-lean-facts.md (field_simp).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from .poly import Atoms, Poly, add, const, mul, power, scale, to_poly
from .semantics import NotEvaluable, evaluate
from .terms import RAT, REAL, Op, Term, free_vars

# How a denominator was discharged: "pos" (0 < d), "ne" (d ≠ 0), or None (it stays an atom).
Discharge = Callable[[Term], str | None]


@dataclass(frozen=True)
class RatFun:
    num: Poly
    den: Poly
    positive: bool = True  # every cleared denominator is positive, so den > 0
    cleared: bool = False  # some non-numeral denominator was cleared


def _closed(t: Term) -> Fraction | None:
    if free_vars(t):
        return None
    try:
        v = evaluate(t)
    except (NotEvaluable, ZeroDivisionError):
        return None
    return v if isinstance(v, Fraction) else None


def _combine(a: RatFun, b: RatFun, sign: int) -> RatFun:
    flags = dict(positive=a.positive and b.positive, cleared=a.cleared or b.cleared)
    if a.den == b.den:
        return RatFun(add(a.num, b.num, Fraction(sign)), a.den, **flags)
    return RatFun(add(mul(a.num, b.den), mul(b.num, a.den), Fraction(sign)), mul(a.den, b.den), **flags)


def to_ratfun(t: Term, atoms: Atoms, discharge: Discharge) -> RatFun:
    """`t` (of type ℚ or ℝ) as N / D, clearing every denominator `discharge` proves nonzero."""
    value = _closed(t)
    if value is not None:
        return RatFun(const(value), const(1))
    if isinstance(t, Op) and t.ty in (RAT, REAL):
        a = t.args
        if t.op in ("+", "-"):
            return _combine(to_ratfun(a[0], atoms, discharge), to_ratfun(a[1], atoms, discharge),
                            1 if t.op == "+" else -1)
        if t.op == "neg":
            inner = to_ratfun(a[0], atoms, discharge)
            return RatFun(scale(inner.num, Fraction(-1)), inner.den, inner.positive, inner.cleared)
        if t.op == "*":
            x, y = to_ratfun(a[0], atoms, discharge), to_ratfun(a[1], atoms, discharge)
            return RatFun(mul(x.num, y.num), mul(x.den, y.den), x.positive and y.positive, x.cleared or y.cleared)
        if t.op == "^":
            n = _closed(a[1])
            if n is not None and n.denominator == 1 and 0 <= n <= 48:
                base = to_ratfun(a[0], atoms, discharge)
                return RatFun(power(base.num, int(n)), power(base.den, int(n)), base.positive, base.cleared)
        if t.op == "/":
            x = to_ratfun(a[0], atoms, discharge)
            c = _closed(a[1])
            if c is not None:
                # Lean: x / 0 = 0; a numeral denominator is a coefficient
                return RatFun(scale(x.num, 1 / c) if c else {}, x.den if c else const(1), x.positive, x.cleared)
            how = discharge(a[1])
            if how is not None:
                # d = N_d / D_d with D_d ≠ 0 and d ≠ 0, so N_d ≠ 0 (and N_d > 0 when d > 0 and D_d > 0)
                y = to_ratfun(a[1], atoms, discharge)
                return RatFun(mul(x.num, y.den), mul(x.den, y.num),
                              x.positive and y.positive and how == "pos", True)
    return RatFun(to_poly(t, atoms), const(1))


def coefficient_lcm(*polys: Poly) -> int:
    """Least common multiple of the coefficient denominators: multiplying by it clears numeral fractions."""
    out = 1
    for p in polys:
        for c in p.values():
            d = c.denominator
            out = out * d // _gcd(out, d)
    return out


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


__all__ = ["RatFun", "to_ratfun", "coefficient_lcm", "Discharge", "scale"]
