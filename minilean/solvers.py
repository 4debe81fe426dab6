"""Decision procedures behind linarith, nlinarith and omega, on z3 with a time limit.

Soundness rule: a procedure answers "proved" only when z3 reports the negation unsatisfiable; unknown,
timeout or any encoding doubt means "not proved".

- `linear_refutes`: Positivstellensatz-free linear arithmetic over ℚ (linarith's simplex oracle): every
  distinct non-linear monomial is an opaque variable, ℕ atoms are non-negative, strict integer facts are
  strengthened to `t + 1 ≤ 0`.
- `omega_refutes`: exact linear integer arithmetic over ℕ and ℤ facts (ℕ subtraction truncates, `/` and
  `%` are Lean's), non-linear products are opaque integer atoms.
"""

from __future__ import annotations

from fractions import Fraction

import z3

from .poly import Atoms, Poly, PolyTooLarge, add, mul, to_poly
from .semantics import NotEvaluable, evaluate
from .terms import INT, NAT, RAT, REAL, Cmp, Conn, Const, Imp, Num, Op, Term, Var, free_vars, walk


class SolverTimeout(Exception):
    """z3 gave up (time limit or unknown); the tactic must fail."""


# ---------------------------------------------------------------------------------------------- linear
class Fact:
    """`poly REL 0` with REL one of <, ≤, =, and whether every value involved is an integer."""

    def __init__(self, poly: Poly, rel: str, integral: bool):
        self.poly, self.rel, self.integral = poly, rel, integral


def comparison_fact(p: Term, atoms: Atoms) -> Fact | None:
    """A hypothesis `a R b` (R among = < ≤ > ≥, or a negated order) as `poly R' 0`; None if not a comparison."""
    negated = False
    if isinstance(p, Conn) and p.op == "not" and isinstance(p.args[0], Cmp) and p.args[0].op in ("<", "≤", ">", "≥"):
        p, negated = p.args[0], True
    if not isinstance(p, Cmp) or p.op not in ("=", "<", "≤", ">", "≥") or p.lhs.ty not in (NAT, INT, RAT, REAL):
        return None
    op, lhs, rhs = p.op, p.lhs, p.rhs
    if negated:
        op = {"<": "≥", "≤": ">", ">": "≤", "≥": "<"}[op]
    if op in (">", "≥"):
        op, lhs, rhs = {">": "<", "≥": "≤"}[op], rhs, lhs
    if lhs.ty == NAT:
        # linarith's natToInt preprocessing: a ℕ fact is read in ℤ with casts pushed to the leaves, so `x < 3`
        # and `(x : ℤ) > 1` share the atom ↑x (docs/minilean-lean-facts.md, linarith)
        lhs, rhs = Op("cast", (lhs,), INT), Op("cast", (rhs,), INT)
    try:
        poly = add(to_poly(lhs, atoms), to_poly(rhs, atoms), Fraction(-1))
    except PolyTooLarge:
        return None
    integral = lhs.ty in (NAT, INT)
    return Fact(poly, op, integral)


def negate_goal(target: Term) -> list[list[Term]]:
    """linarith's goal handling: the hypothesis sets (one per run) that must each be contradictory."""
    t = target
    if isinstance(t, Conn) and t.op == "not" and isinstance(t.args[0], Cmp) and t.args[0].op in ("<", "≤", ">", "≥", "="):
        return [[t.args[0]]]
    if isinstance(t, Cmp) and t.op in ("<", "≤", ">", "≥"):
        return [[Conn("not", (t,))]]
    if isinstance(t, Cmp) and t.op == "=" and t.lhs.ty in (NAT, INT, RAT, REAL):
        return [[Cmp("<", t.lhs, t.rhs)], [Cmp(">", t.lhs, t.rhs)]]
    if isinstance(t, Cmp) and t.op == "≠":
        return [[Cmp("=", t.lhs, t.rhs)]]
    return [[]]  # exfalso: the hypotheses alone must be contradictory


def split_conjunctions(props: list[Term]) -> list[Term]:
    out: list[Term] = []
    for p in props:
        if isinstance(p, Conn) and p.op == "and":
            out.extend(split_conjunctions(list(p.args)))
        else:
            out.append(p)
    return out


def atom_facts(atoms: Atoms) -> list[Fact]:
    """Non-negativity of natural-number atoms (linarith adds `0 ≤ ↑t` for casts of ℕ terms)."""
    out = []
    for i, t in enumerate(atoms.terms):
        if t.ty == NAT or (isinstance(t, Op) and t.op == "cast" and t.args[0].ty == NAT):
            out.append(Fact({((i, 1),): Fraction(-1)}, "≤", True))
    return out


def square_facts(terms: list[Term], atoms: Atoms) -> list[Fact]:
    """nlinarith step A: `0 ≤ a ^ 2` and `0 ≤ a * a` for every such subterm."""
    out, seen = [], set()
    for t in terms:
        for sub in walk(t):
            base = None
            if isinstance(sub, Op) and sub.op == "^" and isinstance(sub.args[1], Num) and sub.args[1].value % 2 == 0 \
                    and sub.args[1].value > 0:
                base = sub
            elif isinstance(sub, Op) and sub.op == "*" and sub.args[0] == sub.args[1]:
                base = sub
            if base is not None and base not in seen and base.ty in (NAT, INT, RAT, REAL):
                seen.add(base)
                try:
                    out.append(Fact({m: -c for m, c in to_poly(base, atoms).items()}, "≤",
                                    base.ty in (NAT, INT)))
                except PolyTooLarge:
                    continue
    return out


def product_facts(facts: list[Fact], limit: int = 900) -> list[Fact]:
    """nlinarith step B: pairwise products (including squares) with the sign rule."""
    out = []
    for i in range(len(facts)):
        for j in range(i, len(facts)):
            a, b = facts[i], facts[j]
            try:
                poly = mul(a.poly, b.poly)
            except PolyTooLarge:
                continue
            if a.rel == "=" or b.rel == "=":
                rel = "="
            elif a.rel == "<" and b.rel == "<":
                rel = "<"
            else:
                rel = "≤"
            # (neg)·(neg) is positive: flip the sign so the fact reads `−p·q R 0`
            if rel != "=":
                poly = {m: -c for m, c in poly.items()}
            out.append(Fact(poly, rel, a.integral and b.integral))
            if len(out) >= limit:
                return out
    return out


def linear_refutes(facts: list[Fact], timeout_ms: int) -> bool:
    """True when the facts, read with non-linear monomials as variables over ℚ, have no solution."""
    solver = z3.SolverFor("QF_LRA")
    solver.set("timeout", max(1, int(timeout_ms)))
    variables: dict = {}

    def lin(poly: Poly):
        terms = []
        for m, c in poly.items():
            coeff = z3.RealVal(f"{c.numerator}/{c.denominator}")
            if m == ():
                terms.append(coeff)
            else:
                if m not in variables:
                    variables[m] = z3.Real(f"m{len(variables)}")
                terms.append(coeff * variables[m])
        return z3.Sum(terms) if terms else z3.RealVal(0)

    for f in facts:
        poly = f.poly
        if f.integral and f.rel == "<" and all(c.denominator == 1 for c in poly.values()):
            solver.add(lin(poly) + 1 <= 0)
        elif f.rel == "<":
            solver.add(lin(poly) < 0)
        elif f.rel == "≤":
            solver.add(lin(poly) <= 0)
        else:
            solver.add(lin(poly) == 0)
    result = solver.check()
    if result == z3.unsat:
        return True
    if result == z3.unknown:
        raise SolverTimeout(solver.reason_unknown())
    return False


# ---------------------------------------------------------------------------------------------- omega
class OmegaEncoder:
    """Exact encoding of ℕ/ℤ propositions into z3 integer arithmetic; other facts are not usable."""

    def __init__(self) -> None:
        self.vars: dict[Term, z3.ArithRef] = {}
        self.side: list = []

    def atom(self, t: Term):
        if t not in self.vars:
            v = z3.Int(f"a{len(self.vars)}")
            self.vars[t] = v
            if t.ty == NAT:
                self.side.append(v >= 0)
        return self.vars[t]

    def term(self, t: Term):
        if t.ty not in (NAT, INT):
            raise NotEvaluable("not an integer term")
        if not free_vars(t):
            try:
                v = evaluate(t)
                if isinstance(v, Fraction) and v.denominator == 1:
                    return z3.IntVal(int(v))
            except NotEvaluable:
                pass
        if isinstance(t, Num):
            return z3.IntVal(int(t.value))
        if isinstance(t, Var):
            return self.atom(t)
        if isinstance(t, Op):
            a = t.args
            if t.op == "+":
                return self.term(a[0]) + self.term(a[1])
            if t.op == "-":
                x, y = self.term(a[0]), self.term(a[1])
                return z3.If(x >= y, x - y, 0) if t.ty == NAT else x - y
            if t.op == "neg":
                return -self.term(a[0])
            if t.op == "*":
                if not free_vars(a[0]) or not free_vars(a[1]):
                    return self.term(a[0]) * self.term(a[1])
                return self.atom(t)
            if t.op in ("/", "%") and not free_vars(a[1]):
                x, k = self.term(a[0]), self.term(a[1])
                if t.op == "/":
                    return z3.If(k == 0, 0, x / k)
                return z3.If(k == 0, x, x % k)
            if t.op in ("min", "max"):
                x, y = self.term(a[0]), self.term(a[1])
                return z3.If(x <= y, x, y) if t.op == "min" else z3.If(x >= y, x, y)
            if t.op == "natAbs":
                x = self.term(a[0])
                return z3.If(x >= 0, x, -x)
            if t.op == "toNat":
                x = self.term(a[0])
                return z3.If(x >= 0, x, 0)
            if t.op == "abs":
                x = self.term(a[0])
                return z3.If(x >= 0, x, -x)
            if t.op == "cast" and a[0].ty in (NAT, INT):
                return self.term(a[0])
        return self.atom(t)

    def prop(self, p: Term):
        """z3 formula for an ℕ/ℤ proposition, or None when it says nothing omega can use."""
        if isinstance(p, Const):
            return z3.BoolVal(p.value)
        if isinstance(p, Cmp):
            if p.lhs.ty not in (NAT, INT):
                return None
            try:
                x, y = self.term(p.lhs), self.term(p.rhs)
            except NotEvaluable:
                return None
            if p.op == "∣":
                if free_vars(p.lhs):
                    return None
                return z3.If(x == 0, y == 0, y % x == 0)
            return {"=": x == y, "≠": x != y, "<": x < y, "≤": x <= y, ">": x > y, "≥": x >= y}[p.op]
        if isinstance(p, Conn):
            parts = [self.prop(a) for a in p.args]
            if any(q is None for q in parts):
                return None
            if p.op == "not":
                return z3.Not(parts[0])
            if p.op == "and":
                return z3.And(parts)
            if p.op == "or":
                return z3.Or(parts)
            return parts[0] == parts[1]
        if isinstance(p, Imp):
            a, b = self.prop(p.lhs), self.prop(p.rhs)
            if a is None or b is None:
                return None
            return z3.Implies(a, b)
        return None


def omega_refutes(hyps: list[Term], negated_goal: Term | None, timeout_ms: int) -> tuple[bool, bool]:
    """(refuted, had usable facts) for the hypotheses plus the negated goal."""
    enc = OmegaEncoder()
    solver = z3.SolverFor("QF_LIA")
    solver.set("timeout", max(1, int(timeout_ms)))
    usable = False
    for h in hyps + ([negated_goal] if negated_goal is not None else []):
        # conjunctions may mix usable and unusable parts: keep the usable ones
        for part in split_conjunctions([h]):
            f = enc.prop(part)
            if f is not None:
                solver.add(f)
                usable = True
    for s in enc.side:
        solver.add(s)
    if not usable:
        return False, False
    result = solver.check()
    if result == z3.unsat:
        return True, True
    if result == z3.unknown:
        raise SolverTimeout(solver.reason_unknown())
    return False, True
