"""Property-based soundness: minilean must never close a false goal, whatever the decision tactic.

Claims are generated as Lean text together with an expression tree; an oracle written here (independently of
minilean's evaluator) decides them with exact Python integers and Fractions under Lean semantics: closed claims
exactly, open claims by searching a bounded grid for a counterexample. Whenever the oracle finds the claim false,
every tactic must fail on it.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minilean.frontend import check_declaration

TACTICS = ["norm_num", "simp", "linarith", "nlinarith", "positivity", "omega", "decide", "ring", "field_simp",
           "nlinarith [sq_nonneg (x - y), sq_nonneg (x + y)]", "norm_num [h]", "simp_all", "interval_cases x"]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


# ------------------------------------------------------------------------------------------- oracle
class Undefined(Exception):
    pass


def lean_value(tree, ty: str, env: dict):
    kind = tree[0]
    if kind == "num":
        return Fraction(tree[1])
    if kind == "var":
        return env[tree[1]]
    if kind == "neg":
        return -lean_value(tree[1], ty, env)
    if kind == "abs":
        return abs(lean_value(tree[1], ty, env))
    a, b = lean_value(tree[1], ty, env), lean_value(tree[2], ty, env)
    op = kind
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    if op == "-":
        return max(a - b, Fraction(0)) if ty == "ℕ" else a - b
    if op == "^":
        return a ** int(b)
    if op in ("min", "max"):
        return min(a, b) if op == "min" else max(a, b)
    if op in ("/", "%"):
        if ty in ("ℚ", "ℝ"):
            return Fraction(0) if b == 0 else a / b
        ai, bi = int(a), int(b)
        if bi == 0:
            return Fraction(0) if op == "/" else Fraction(ai)
        r = ai % abs(bi)  # Euclidean remainder: 0 ≤ r < |b|
        return Fraction((ai - r) // bi) if op == "/" else Fraction(r)
    raise Undefined(op)


def claim_holds(claim, ty: str, env: dict) -> bool:
    rel, lhs, rhs = claim
    a, b = lean_value(lhs, ty, env), lean_value(rhs, ty, env)
    return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b}[rel]


def text(tree, ty: str) -> str:
    kind = tree[0]
    if kind == "num":
        return f"({tree[1]} : {ty})"
    if kind == "var":
        return tree[1]
    if kind == "neg":
        return f"(-{text(tree[1], ty)})"
    if kind == "abs":
        return f"(|{text(tree[1], ty)}|)"
    if kind in ("min", "max"):
        return f"({kind} {text(tree[1], ty)} {text(tree[2], ty)})"
    if kind == "^":
        return f"({text(tree[1], ty)} ^ {tree[2][1]})"
    return f"({text(tree[1], ty)} {kind} {text(tree[2], ty)})"


# ------------------------------------------------------------------------------------------- generators
def trees(ty: str, variables: tuple[str, ...]):
    leaves = [st.builds(lambda n: ("num", n), st.integers(0, 6))]
    if variables:
        leaves.append(st.sampled_from([("var", v) for v in variables]))
    ops = ["+", "-", "*", "/", "min", "max"] + (["%"] if ty in ("ℕ", "ℤ") else [])

    def extend(children):
        binary = st.tuples(st.sampled_from(ops), children, children)
        power = st.tuples(st.just("^"), children, st.builds(lambda n: ("num", n), st.integers(0, 3)))
        unary = [st.tuples(st.just("neg"), children), st.tuples(st.just("abs"), children)] if ty != "ℕ" else []
        return st.one_of(binary, power, *unary)

    return st.recursive(st.one_of(leaves), extend, max_leaves=5)


def claims(ty: str, variables: tuple[str, ...]):
    return st.tuples(st.sampled_from(["=", "≠", "<", "≤", ">", "≥"]), trees(ty, variables), trees(ty, variables))


TYPES = st.sampled_from(["ℕ", "ℤ", "ℚ", "ℝ"])


def closes(statement: str, tactic: str) -> bool:
    messages, _, used_sorry = check_declaration(f"theorem t {statement} := by\n  {tactic}", solver_ms=1500)
    return not used_sorry and not any(sev == "error" for sev, _, _ in messages)


def grid(ty: str):
    if ty == "ℕ":
        return [Fraction(v) for v in range(0, 5)]
    if ty == "ℤ":
        return [Fraction(v) for v in range(-3, 4)]
    return [Fraction(v, 2) for v in range(-6, 7)]


def counterexample(ty: str, hyp, claim) -> dict | None:
    for x, y in itertools.product(grid(ty), repeat=2):
        env = {"x": x, "y": y}
        try:
            if (hyp is None or claim_holds(hyp, ty, env)) and not claim_holds(claim, ty, env):
                return env
        except (Undefined, OverflowError, ZeroDivisionError):
            continue
    return None


# ------------------------------------------------------------------------------------------- properties
@PROPERTY
@given(data=st.data())
def test_no_tactic_closes_a_false_closed_claim(data):
    ty = data.draw(TYPES)
    claim = data.draw(claims(ty, ()))
    try:
        truth = claim_holds(claim, ty, {})
    except (Undefined, OverflowError):
        return
    if truth:
        return
    statement = f": {text(claim[1], ty)} {claim[0]} {text(claim[2], ty)}"
    for tactic in TACTICS[:9]:
        assert not closes(statement, tactic), f"{tactic} closed the false claim {statement}"


@PROPERTY
@given(data=st.data())
def test_no_tactic_closes_a_false_open_claim(data):
    ty = data.draw(TYPES)
    hyp = data.draw(st.one_of(st.none(), claims(ty, ("x", "y"))))
    claim = data.draw(claims(ty, ("x", "y")))
    witness = counterexample(ty, hyp, claim)
    if witness is None:
        return
    hyp_text = f" (h : {text(hyp[1], ty)} {hyp[0]} {text(hyp[2], ty)})" if hyp else ""
    statement = f"(x y : {ty}){hyp_text} : {text(claim[1], ty)} {claim[0]} {text(claim[2], ty)}"
    for tactic in TACTICS:
        if tactic == "norm_num [h]" and hyp is None:
            continue
        assert not closes(statement, tactic), f"{tactic} closed {statement}, false at {witness}"


@PROPERTY
@given(data=st.data())
def test_true_closed_claims_are_decided_by_norm_num(data):
    """A liveness check so the properties above cannot pass vacuously: norm_num decides closed claims."""
    ty = data.draw(st.sampled_from(["ℕ", "ℤ", "ℚ"]))
    claim = data.draw(claims(ty, ()))
    try:
        truth = claim_holds(claim, ty, {})
    except (Undefined, OverflowError):
        return
    statement = f": {text(claim[1], ty)} {claim[0]} {text(claim[2], ty)}"
    assert closes(statement, "norm_num") == truth, statement
