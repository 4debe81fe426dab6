"""Exact evaluation of closed terms with Lean 4 + Mathlib semantics (docs/minilean-lean-facts.md, operations).

ℕ subtraction truncates, `x / 0 = 0` in every type, ℕ `/` floors, ℤ `/` and `%` are `Int.ediv`/`Int.emod`,
`x % 0 = x`, `Real.sqrt` of a negative is 0. Values are Python ints and Fractions, so results are exact.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .terms import INT, NAT, App, BigOp, Cmp, Conn, Const, Imp, Num, Op, Pred, Quant, Term, Var

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
        return _bounded_quantifier(term, env)
    if isinstance(term, App):
        raise NotEvaluable(f"function {term.fn.name}")
    if isinstance(term, Pred):
        return _predicate(term.name, [evaluate(a, env) for a in term.args])
    if isinstance(term, BigOp):
        return _big_operator(term, env)
    raise NotEvaluable(f"cannot evaluate {term!r}")


MAX_TERMS = 20000


def _bounded_quantifier(q: Quant, env) -> bool:
    """`∀ n, n < c → P n`, `∀ n, n ≤ c → P n`, `∃ n, n < c ∧ P n` over ℕ with a closed bound: decidable by
    checking every value (Lean's Nat.decidableBallLT and friends); any other quantifier is not evaluated."""
    body = q.body
    if q.var_ty != NAT:
        raise NotEvaluable("quantifier")
    guard, rest = None, None
    if q.q == "∀" and isinstance(body, Imp):
        guard, rest = body.lhs, body.rhs
    elif q.q == "∃" and isinstance(body, Conn) and body.op == "and":
        guard, rest = body.args
    if not (isinstance(guard, Cmp) and guard.op in ("<", "≤") and isinstance(guard.lhs, Var)
            and guard.lhs.fid == q.fid):
        raise NotEvaluable("quantifier")
    bound = evaluate(guard.rhs, env)
    top = int(bound) + (1 if guard.op == "≤" else 0)
    if top > MAX_TERMS:
        raise NotEvaluable("too many cases")
    inner = dict(env)
    for n in range(max(0, top)):
        inner[q.fid] = Fraction(n)
        value = bool(evaluate(rest, inner))
        if q.q == "∀" and not value:
            return False
        if q.q == "∃" and value:
            return True
    return q.q == "∀"


def _big_operator(t: BigOp, env) -> Fraction:
    lo, hi = evaluate(t.lo, env), evaluate(t.hi, env)
    indices = t.indices(int(lo), int(hi))
    if len(indices) > MAX_TERMS:
        raise NotEvaluable("too many terms")
    total = Fraction(0) if t.op == "∑" else Fraction(1)
    inner = dict(env)
    for k in indices:
        inner[t.fid] = Fraction(k)
        v = evaluate(t.body, inner)
        total = _check(total + v) if t.op == "∑" else _check(total * v)
    return total


def is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for n < 3.3·10^24 (the bases below suffice), exact trial division first."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    for p in small:
        if n % p == 0:
            return n == p
    if n >= 3_317_044_064_679_887_385_961_981:
        raise NotEvaluable("number too large for minilean's primality test")
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _predicate(name: str, vals: list) -> bool:
    v = vals[0]
    if v.denominator != 1:
        raise NotEvaluable(name)
    n = int(v)
    if name == "Nat.Prime":
        return is_prime(n)
    if name == "Even":
        return n % 2 == 0
    if name == "Odd":
        return n % 2 == 1
    raise NotEvaluable(name)


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
    if op in ("gcd", "lcm"):
        a, b = int(vals[0]), int(vals[1])
        g = math.gcd(a, b)
        return Fraction(g if op == "gcd" else (0 if g == 0 else a * b // g))
    if op == "factorial":
        if vals[0] > 3000:
            raise NotEvaluable("number too large")
        return Fraction(math.factorial(int(vals[0])))
    if op == "floor":
        return Fraction(math.floor(vals[0]))
    if op == "ceil":
        return Fraction(math.ceil(vals[0]))
    if op == "zpow":
        base, e = vals[0], int(vals[1])
        if e >= 0:
            return _op(Op("^", (Num(base, ty), Num(Fraction(e), NAT)), ty), env)
        return Fraction(0) if base == 0 else 1 / _op(Op("^", (Num(base, ty), Num(Fraction(-e), NAT)), ty), env)
    if op == "rpow":
        return _rpow(vals[0], vals[1])
    # Mathlib's simp lemmas Real.log_one, Real.exp_zero, Real.sin_zero, Real.cos_zero, Real.tan_zero
    special = {("log", Fraction(1)): 0, ("exp", Fraction(0)): 1, ("sin", Fraction(0)): 0, ("cos", Fraction(0)): 1,
               ("tan", Fraction(0)): 0}
    if op in ("log", "exp", "sin", "cos", "tan") and (op, vals[0]) in special:
        return Fraction(special[(op, vals[0])])
    raise NotEvaluable(op)


def _rpow(base: Fraction, e: Fraction) -> Fraction:
    """`Real.rpow` with an integer exponent (where it agrees with zpow, for negative bases too: cos (n π) is
    (-1)^n), or a zero base. Other values are left unevaluated, as Lean's norm_num has no extension for them
    (docs/minilean-lean-facts.md, powers)."""
    if e.denominator == 1:
        n = int(e)
        if abs(n) > 4096:
            raise NotEvaluable("number too large")
        if n >= 0:
            return base ** n
        return Fraction(0) if base == 0 else 1 / base ** (-n)
    if base == 0:
        return Fraction(0)  # 0 ^ y = 0 for y ≠ 0
    raise NotEvaluable("a real power with a fractional exponent")


def _check(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
        raise NotEvaluable("number too large")
    return v


def is_closed(term: Term) -> bool:
    from .terms import free_vars

    return not free_vars(term)


def decide_value(p: Term) -> bool | None:
    """What Lean's `decide` computes for a closed proposition: its truth value, or None when it has free variables,
    mentions ℝ (whose order is classical, so not decidable by evaluation) or cannot be computed exactly."""
    from .terms import REAL, free_vars

    if free_vars(p):
        return None
    stack = [p]
    while stack:
        t = stack.pop()
        if (isinstance(t, Op | Cmp | BigOp) and t.ty == REAL) or (isinstance(t, Cmp) and t.lhs.ty == REAL):
            return None
        if isinstance(t, Pred) and t.name == "Nat.Prime":
            try:
                if evaluate(t.args[0]) > 100_000:
                    return None  # Nat.Prime's Decidable instance is too slow for the kernel beyond this
            except NotEvaluable:
                return None
        stack.extend(t.children())
    try:
        v = evaluate(p)
    except NotEvaluable:
        return None
    return bool(v)
