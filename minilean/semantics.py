"""Exact evaluation of closed terms with Lean 4 + Mathlib semantics (docs/lean-semantics.md#operations).

ℕ subtraction truncates, `x / 0 = 0` in every type, ℕ `/` floors, ℤ `/` and `%` are `Int.ediv`/`Int.emod`,
`x % 0 = x`, `Real.sqrt` of a negative is 0. Values are Python ints and Fractions, so results are exact.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .terms import INT, NAT, Cmp, Conn, Const, Imp, Num, Op, Quant, Term, Var

# Refuse to build numbers beyond this many bits: Lean would hit its recursion limit long before.
MAX_BITS = 200_000


class NotEvaluable(Exception):
    """The term has free variables or a value minilean cannot compute exactly (e.g. √2)."""


def ediv(a: int, b: int) -> int:
    """Lean's `Int.ediv`: rounds down for b > 0, up for b < 0; `a / 0 = 0`."""
    if b == 0:
        return 0
    q = a // b if b > 0 else -(a // -b)
    return q


def emod(a: int, b: int) -> int:
    """Lean's `Int.emod`: 0 ≤ a % b < |b| for b ≠ 0; `a % 0 = a`."""
    if b == 0:
        return a
    return a - b * ediv(a, b)


def exact_sqrt(x: Fraction) -> Fraction | None:
    """√x when it is rational (0 for negative x, as Real.sqrt); None when irrational."""
    if x <= 0:
        return Fraction(0)
    n, d = x.numerator, x.denominator
    rn, rd = math.isqrt(n), math.isqrt(d)
    if rn * rn == n and rd * rd == d:
        return Fraction(rn, rd)
    return None


def evaluate(term: Term, env: dict[int, Fraction | bool] | None = None) -> Fraction | bool:
    """Value of a term whose free variables are all bound in `env` (by variable id)."""
    env = env or {}
    if isinstance(term, Num):
        return term.value
    if isinstance(term, Var):
        if term.fid not in env:
            raise NotEvaluable(f"free variable {term.name}")
        return env[term.fid]
    if isinstance(term, Const):
        return term.value
    if isinstance(term, Op):
        return _op(term, env)
    if isinstance(term, Cmp):
        a, b = evaluate(term.lhs, env), evaluate(term.rhs, env)
        return compare(term.op, a, b, term.lhs.ty)
    if isinstance(term, Conn):
        vals = [evaluate(a, env) for a in term.args]
        if term.op == "not":
            return not vals[0]
        if term.op == "and":
            return vals[0] and vals[1]
        if term.op == "or":
            return vals[0] or vals[1]
        return vals[0] == vals[1]
    if isinstance(term, Imp):
        return (not evaluate(term.lhs, env)) or bool(evaluate(term.rhs, env))
    if isinstance(term, Quant):
        raise NotEvaluable("quantifier")
    raise NotEvaluable(f"cannot evaluate {term!r}")


def compare(op: str, a, b, ty: str) -> bool:
    if op == "=":
        return a == b
    if op == "≠":
        return a != b
    if op == "<":
        return a < b
    if op == "≤":
        return a <= b
    if op == ">":
        return a > b
    if op == "≥":
        return a >= b
    if op == "∣":
        if ty in (NAT, INT):
            return b == 0 if a == 0 else int(b) % int(a) == 0
        return a != 0 or b == 0
    raise NotEvaluable(op)


def _op(t: Op, env) -> Fraction:
    vals = [evaluate(a, env) for a in t.args]
    op, ty = t.op, t.ty
    if op == "+":
        return _check(vals[0] + vals[1])
    if op == "-":
        r = vals[0] - vals[1]
        return max(r, Fraction(0)) if ty == NAT else r
    if op == "*":
        return _check(vals[0] * vals[1])
    if op == "/":
        a, b = vals
        if b == 0:
            return Fraction(0)
        if ty == NAT or ty == INT:
            return Fraction(ediv(int(a), int(b)))
        return a / b
    if op == "%":
        return Fraction(emod(int(vals[0]), int(vals[1])))
    if op == "^":
        base, exp = vals
        e = int(exp)
        if e > 0 and abs(base) > 1 and e * max(abs(base.numerator), base.denominator).bit_length() > MAX_BITS:
            raise NotEvaluable("number too large")
        return base ** e
    if op == "neg":
        return -vals[0]
    if op == "abs":
        return abs(vals[0])
    if op == "min":
        return min(vals)
    if op == "max":
        return max(vals)
    if op == "cast":
        return vals[0]
    if op == "sqrt":
        r = exact_sqrt(vals[0])
        if r is None:
            raise NotEvaluable("irrational square root")
        return r
    if op == "natAbs":
        return abs(vals[0])
    if op == "toNat":
        return max(vals[0], Fraction(0))
    raise NotEvaluable(op)


def _check(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
        raise NotEvaluable("number too large")
    return v


def is_closed(term: Term) -> bool:
    from .terms import free_vars

    return not free_vars(term)
