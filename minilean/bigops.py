"""The Finset big-operator lemmas as native rewrite steps: they quantify over a function `f`, which minilean's
first-order lemma table cannot state (docs/minilean-lean-facts.md, big operators).

Each step takes a term and returns the equal term the lemma rewrites it to, or None where it does not apply:
- Finset.sum_range_succ / prod_range_succ: ∑ x ∈ range (n + 1), f x = ∑ x ∈ range n, f x + f n;
- Finset.sum_range_zero / prod_range_zero: ∑ x ∈ range 0, f x = 0 (the product is 1);
- Finset.sum_range_one / prod_range_one: ∑ x ∈ range 1, f x = f 0;
- Finset.sum_Icc_succ_top / prod_Icc_succ_top: ∑ k ∈ Icc a (b + 1), f k = ∑ k ∈ Icc a b, f k + f (b + 1) when
  a ≤ b + 1 (checked on literals only).
A numeral bound `5` counts as `4 + 1`, as Lean's Nat literal unification does.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from .semantics import NotEvaluable, evaluate
from .terms import NAT, BigOp, Num, Op, Term, free_vars, substitute

NativeStep = Callable[[Term], Term | None]


def _predecessor(t: Term) -> Term | None:
    """n for a bound written `n + 1`, or the numeral k - 1 for a numeral k ≥ 1."""
    if isinstance(t, Op) and t.op == "+" and isinstance(t.args[1], Num) and t.args[1].value == 1:
        return t.args[0]
    if isinstance(t, Num) and t.value >= 1 and t.ty in (NAT, "ℤ"):
        return Num(t.value - 1, t.ty)
    return None


def _combine(op: str, a: Term, b: Term) -> Term:
    return Op("+" if op == "∑" else "*", (a, b), a.ty)


def _instance(t: BigOp, index: Term) -> Term:
    return substitute(t.body, {t.fid: index})


def _range_succ(op: str) -> NativeStep:
    def step(t: Term) -> Term | None:
        if not (isinstance(t, BigOp) and t.op == op and t.kind == "range"):
            return None
        n = _predecessor(t.hi)
        if n is None:
            return None
        rest = BigOp(t.op, t.fid, t.name, t.var_ty, t.kind, t.lo, n, t.body, t.ty)
        return _combine(op, rest, _instance(t, n))

    return step


def _range_zero(op: str) -> NativeStep:
    def step(t: Term) -> Term | None:
        if isinstance(t, BigOp) and t.op == op and t.kind == "range" and isinstance(t.hi, Num) and t.hi.value == 0:
            return Num(Fraction(0 if op == "∑" else 1), t.ty)
        return None

    return step


def _range_one(op: str) -> NativeStep:
    def step(t: Term) -> Term | None:
        if isinstance(t, BigOp) and t.op == op and t.kind == "range" and isinstance(t.hi, Num) and t.hi.value == 1:
            return _instance(t, Num(Fraction(0), t.var_ty))
        return None

    return step


def _icc_succ_top(op: str) -> NativeStep:
    def step(t: Term) -> Term | None:
        if not (isinstance(t, BigOp) and t.op == op and t.kind == "Icc"):
            return None
        b = _predecessor(t.hi)
        if b is None or free_vars(t.lo) or free_vars(b):
            return None  # the side condition a ≤ b + 1 is only checked on literals
        try:
            if not evaluate(t.lo) <= evaluate(t.hi):
                return None
        except NotEvaluable:
            return None
        rest = BigOp(t.op, t.fid, t.name, t.var_ty, t.kind, t.lo, b, t.body, t.ty)
        return _combine(op, rest, _instance(t, t.hi))

    return step


NATIVE_STEPS: dict[str, NativeStep] = {
    "Finset.sum_range_succ": _range_succ("∑"),
    "Finset.prod_range_succ": _range_succ("∏"),
    "Finset.sum_range_zero": _range_zero("∑"),
    "Finset.prod_range_zero": _range_zero("∏"),
    "Finset.sum_range_one": _range_one("∑"),
    "Finset.prod_range_one": _range_one("∏"),
    "Finset.sum_Icc_succ_top": _icc_succ_top("∑"),
    "Finset.prod_Icc_succ_top": _icc_succ_top("∏"),
}


def native_step(name: str) -> NativeStep | None:
    return NATIVE_STEPS.get(name) or NATIVE_STEPS.get(f"Finset.{name}")
