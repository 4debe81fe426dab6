"""Every lemma of minilean's table is checked on its own: at every point of a grid (per admissible type) where
its hypotheses hold, its conclusion must hold, with Lean's operations (ℕ subtraction truncates, x / 0 = 0, …).

A wrong statement in the table would let minilean prove false goals through rw, simp, have, exact or a hint, so
each lemma also has to be used somewhere on a point where it says something (a vacuous check is a failure).
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from minilean.lemma_table import LEMMAS
from minilean.schemas import lemma_types, schema
from minilean.semantics import NotEvaluable, evaluate
from minilean.terms import INT, NAT, PROP

GRIDS = {
    NAT: [Fraction(v) for v in (0, 1, 2, 3, 4, 7)],
    INT: [Fraction(v) for v in (-7, -3, -2, -1, 0, 1, 2, 3, 4)],
    # squares of rationals and their negatives, so that √ of a grid point is exact half of the time
    "field": [Fraction(v) for v in (-4, -9, -1, 0, 1, 4, 9)] + [Fraction(1, 4), Fraction(-1, 4), Fraction(9, 4),
                                                                   Fraction(2), Fraction(-3, 2), Fraction(1, 2)],
    PROP: [True, False],
}


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
                if not all(evaluate(h, env) for h in hyps):
                    continue
                holds = evaluate(sch.conclusion, env)
            except NotEvaluable:
                continue
            assert holds, f"{lemma.name} ({ty}) is false at {dict(zip([v.name for v in variables], point, strict=True))}"
            meaningful += 1
    assert meaningful >= needed, f"{lemma.name}: too few grid points satisfy the hypotheses to check the statement"
