"""Every lemma of minilean's table is checked on its own: at every point of a grid (per admissible type) where
its hypotheses hold, its conclusion must hold, with Lean's operations (ℕ subtraction truncates, x / 0 = 0, …).
Statements about transcendental functions (log, exp, sin, cos, π, real powers) are checked in floating point by
an evaluator written here, with Mathlib's conventions (Real.log x = log |x|, log 0 = 0), within 1e-9.

A wrong statement in the table would let minilean prove false goals through rw, simp, have, exact or a hint, so
each lemma also has to be used somewhere on a point where it says something (a vacuous check is a failure).
"""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from minilean.lemma_table import LEMMAS
from minilean.schemas import lemma_types, schema
from minilean.semantics import NotEvaluable, evaluate
from minilean.terms import INT, NAT, PROP, Cmp, Conn, Imp, Num, Var

GRIDS = {
    NAT: [Fraction(v) for v in (0, 1, 2, 3, 4, 7)],
    INT: [Fraction(v) for v in (-7, -3, -2, -1, 0, 1, 2, 3, 4)],
    # squares of rationals and their negatives, so that √ of a grid point is exact half of the time
    "field": [Fraction(v) for v in (-4, -9, -1, 0, 1, 4, 9)] + [Fraction(1, 4), Fraction(-1, 4), Fraction(9, 4),
                                                                   Fraction(2), Fraction(-3, 2), Fraction(1, 2)],
    PROP: [True, False],
}


def approx(t, env) -> float | bool:
    """Floating-point value of a term (an oracle independent of minilean's exact evaluator)."""
    if isinstance(t, Num):
        return float(t.value)
    if isinstance(t, Var):
        v = env[t.fid]
        return v if isinstance(v, bool) else float(v)
    if isinstance(t, Cmp):
        a, b = approx(t.lhs, env), approx(t.rhs, env)
        eps = 1e-9 * max(1.0, abs(a), abs(b))
        return {"=": abs(a - b) <= eps, "≠": abs(a - b) > eps, "<": a < b + eps, "≤": a <= b + eps,
                ">": a > b - eps, "≥": a >= b - eps}[t.op]
    if isinstance(t, Conn):
        vals = [approx(a, env) for a in t.args]
        return {"not": lambda: not vals[0], "and": lambda: vals[0] and vals[1], "or": lambda: vals[0] or vals[1],
                "iff": lambda: vals[0] == vals[1]}[t.op]()
    if isinstance(t, Imp):
        return (not approx(t.lhs, env)) or approx(t.rhs, env)
    a = [approx(x, env) for x in t.args]
    def log(x):
        return (0.0 if x == 0 else math.log(abs(x)))
    table = {"+": lambda: a[0] + a[1], "-": lambda: a[0] - a[1], "*": lambda: a[0] * a[1],
             "/": lambda: 0.0 if a[1] == 0 else a[0] / a[1], "neg": lambda: -a[0], "abs": lambda: abs(a[0]),
             "^": lambda: a[0] ** a[1], "cast": lambda: a[0], "sqrt": lambda: math.sqrt(max(a[0], 0.0)),
             "log": lambda: log(a[0]), "exp": lambda: math.exp(a[0]), "sin": lambda: math.sin(a[0]),
             "cos": lambda: math.cos(a[0]), "tan": lambda: math.tan(a[0]), "pi": lambda: math.pi,
             "rpow": lambda: (1.0 if a[1] == 0 else 0.0) if a[0] == 0 else
             math.exp(log(a[0]) * a[1]) * (math.cos(a[1] * math.pi) if a[0] < 0 else 1.0),
             "logb": lambda: 0.0 if log(a[0]) == 0 else log(a[1]) / log(a[0]),
             "floor": lambda: float(math.floor(a[0])), "max": lambda: max(a), "min": lambda: min(a)}
    if t.op not in table:
        raise NotEvaluable(t.op)
    return table[t.op]()


def holds_at(prop, env) -> bool:
    try:
        return bool(evaluate(prop, env))
    except NotEvaluable:
        return bool(approx(prop, env))


def grid(ty: str):
    return GRIDS.get(ty, GRIDS["field"])


@pytest.mark.parametrize("lemma", LEMMAS, ids=[lemma.name for lemma in LEMMAS])
def test_lemma_statement_holds_on_a_grid(lemma):
    rng = random.Random(lemma.name)
    # a lemma about propositions only is checked on its whole truth table, which may satisfy no hypothesis
    meaningful, needed = 0, 0

    for ty in lemma_types(lemma.name):
        sch = schema(lemma.name, ty)
        variables = [p.var for p in sch.params if p.var is not None]
        hyps = [p.prop for p in sch.params if p.prop is not None]
        if any(v.ty != PROP for v in variables):
            needed = 3
        points = list(itertools.product(*(grid(v.ty) for v in variables)))
        rng.shuffle(points)
        for point in points[:3000]:
            env = {v.fid: value for v, value in zip(variables, point, strict=True)}
            try:
                if not all(holds_at(h, env) for h in hyps):
                    continue
                holds = holds_at(sch.conclusion, env)
            except (NotEvaluable, ValueError, OverflowError, ZeroDivisionError):
                continue
            assert holds, f"{lemma.name} ({ty}) is false at {dict(zip([v.name for v in variables], point, strict=True))}"
            meaningful += 1
    assert meaningful >= needed, f"{lemma.name}: too few grid points satisfy the hypotheses to check the statement"
