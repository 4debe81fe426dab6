"""Search for soundness holes: random statements, every tactic minilean models, an independent check of each
closed goal.

The generator builds typed expression trees over ℕ ℤ ℚ ℝ (Lean's truncated ℕ subtraction, `/` and `%` with
x / 0 = 0, casts, abs, min, max, powers, ∣), random hypothesis sets and a goal, renders them as a Lean theorem
with every numeral and cast written out (so the Lean meaning does not depend on elaboration subtleties), and
runs tactic scripts drawn from what a prover proposes (decision tactics, hints from the lemma table, well- and
ill-typed, `at` locations, case splits with `<;>`, rewriting). For every script minilean accepts, the claim
"hypotheses imply goal" is checked without minilean: by z3 on its negation with an encoding written here, and
where z3 cannot decide, by exact evaluation over a grid of points. A counterexample is a soundness bug.

Nothing here uses minilean's terms, evaluator or solvers; only `frontend.check_declaration` is called, as a
user would call minilean.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import z3

NAT, INT, RAT, REAL = "ℕ", "ℤ", "ℚ", "ℝ"
RANK = {NAT: 0, INT: 1, RAT: 2, REAL: 3}
RELATIONS = ("=", "≠", "<", "≤", ">", "≥")


# ------------------------------------------------------------------------------------------------ trees
# terms: ("num", Fraction, ty) ("var", name, ty) ("cast", t, ty) (op, a, b, ty) for + - * / % min max,
#        ("^", a, n, ty) ("neg", a, ty) ("abs", a, ty)
# props: ("cmp", rel, a, b) ("dvd", a, b) ("and", p, q) ("or", p, q) ("not", p) ("imp", p, q)

def ty_of(t: tuple) -> str:
    return t[-1]


class Generator:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.fn_ty: str | None = None  # the type of `f : T → T` when the problem has a function
        self.in_sum = False

    def variables(self) -> dict[str, str]:
        r = self.rng
        base = r.choice([NAT, INT, RAT, REAL])
        out = {"x": base, "y": base}
        if r.random() < 0.35:
            out["y"] = r.choice([NAT, INT, RAT, REAL])
        if r.random() < 0.2:
            out["z"] = r.choice([NAT, INT, REAL])
        return out

    def term(self, ty: str, vs: dict[str, str], depth: int) -> tuple:
        r = self.rng
        same = [v for v, t in vs.items() if t == ty]
        lower = [v for v, t in vs.items() if RANK[t] < RANK[ty]]
        if depth <= 0 or r.random() < 0.3:
            roll = r.random()
            if same and roll < 0.55:
                return ("var", r.choice(same), ty)
            if lower and roll < 0.7:
                v = r.choice(lower)
                return ("cast", ("var", v, vs[v]), ty)
            if ty in (RAT, REAL) and r.random() < 0.25:
                return ("num", Fraction(r.randint(1, 5), r.randint(2, 4)), ty)
            if ty != NAT and r.random() < 0.15:
                return ("num", Fraction(-r.randint(1, 4)), ty)
            return ("num", Fraction(r.randint(0, 6)), ty)
        ops = ["+", "-", "*", "*", "/", "min", "max", "^", "cast"]
        if ty in (NAT, INT):
            ops += ["%", "/"]
        if ty != NAT:
            ops += ["neg", "abs"]
        special = r.random()
        if self.fn_ty == ty and special < 0.15:
            return ("app", self.term(ty, vs, depth - 1), ty)
        if ty == NAT and special < 0.22:
            return ("gcd", self.term(NAT, vs, depth - 1), self.term(NAT, vs, depth - 1), NAT)
        if ty == NAT and special < 0.26:
            return ("fact", r.randint(0, 5), NAT)
        if ty == INT and special < 0.3:
            return ("floor", self.term(r.choice([RAT, REAL]), vs, depth - 1), INT)
        if special < 0.34 and not self.in_sum:
            self.in_sum = True
            body_vs = dict(vs, k=NAT)
            body = self.term(ty, body_vs, depth - 1)
            self.in_sum = False
            lo = r.randint(0, 2)
            return ("sum", lo, lo + r.randint(0, 3), body, ty)
        op = r.choice(ops)
        if op == "^":
            return ("^", self.term(ty, vs, depth - 1), r.randint(0, 3), ty)
        if op in ("neg", "abs"):
            return (op, self.term(ty, vs, depth - 1), ty)
        if op == "cast":
            smaller = [t for t in (NAT, INT, RAT) if RANK[t] < RANK[ty]]
            if not smaller:
                return self.term(ty, vs, depth - 1)
            return ("cast", self.term(r.choice(smaller), vs, depth - 1), ty)
        return (op, self.term(ty, vs, depth - 1), self.term(ty, vs, depth - 1), ty)

    def comparison(self, vs: dict[str, str], ty: str | None = None) -> tuple:
        r = self.rng
        ty = ty or r.choice(sorted(set(vs.values())))
        if ty in (NAT, INT) and r.random() < 0.08:
            return ("dvd", ("num", Fraction(r.randint(2, 5)), ty), self.term(ty, vs, 2))
        return ("cmp", r.choice(RELATIONS), self.term(ty, vs, r.randint(0, 2)), self.term(ty, vs, r.randint(0, 2)))

    def prop(self, vs: dict[str, str]) -> tuple:
        r = self.rng
        roll = r.random()
        if roll < 0.1:
            return ("and", self.comparison(vs), self.comparison(vs))
        if roll < 0.2:
            return ("or", self.comparison(vs), self.comparison(vs))
        if roll < 0.25:
            return ("not", self.comparison(vs))
        if roll < 0.32:
            return ("imp", self.comparison(vs), self.comparison(vs))
        return self.comparison(vs)

    def near_miss(self, p: tuple, vs: dict[str, str]) -> tuple:
        """A goal close to a hypothesis: true, or false only at points a coarse search would miss (a constant
        moved by 1 or 1/2, a strict relation made weak or the other way, sides swapped, an integer bound read
        in a field)."""
        r = self.rng
        if p[0] != "cmp":
            return p if r.random() < 0.5 else self.prop(vs)
        _, rel, a, b = p
        roll = r.random()
        if roll < 0.3:
            rel = {"<": "≤", "≤": "<", ">": "≥", "≥": ">", "=": r.choice(["≤", "≥", "="]), "≠": "≠"}[rel]
        elif roll < 0.6:
            ty = ty_of(b)
            step = Fraction(1, 2) if ty in (RAT, REAL) and r.random() < 0.5 else Fraction(1)
            b = ("+" if r.random() < 0.5 or ty == NAT else "-", b, ("num", step, ty), ty)
        elif roll < 0.75:
            rel = {"<": ">", "≤": "≥", ">": "<", "≥": "≤", "=": "=", "≠": "≠"}[rel]
            a, b = b, a
        else:
            ty = ty_of(a)
            c = self.term(ty, vs, 1)
            a, b = ("+", a, c, ty), ("+", b, c, ty)
        return ("cmp", rel, a, b)

    def problem(self) -> Problem:
        vs = self.variables()
        self.fn_ty = None
        function = None
        if self.rng.random() < 0.2:
            ty = self.rng.choice(sorted(set(vs.values())))
            body = self.term(ty, {"t": ty}, 2)
            function = (ty, body)
            self.fn_ty = ty
        hyps = [self.prop(vs) for _ in range(self.rng.choice([0, 1, 1, 2, 2, 3]))]
        roll = self.rng.random()
        if hyps and roll < 0.5:
            goal = self.near_miss(self.rng.choice(hyps), vs)
        elif roll < 0.9:
            goal = self.prop(vs)
        else:
            goal = ("false",)
        return Problem(vs, hyps, goal, function)


# ------------------------------------------------------------------------------------------------ Lean text
def lean(t: tuple) -> str:
    k = t[0]
    if k == "num":
        v, ty = t[1], t[2]
        if v.denominator != 1:
            return f"(({v.numerator} : {ty}) / {v.denominator})"
        return f"({v.numerator} : {ty})"
    if k == "var":
        return t[1]
    if k == "cast":
        inner = t[1]
        return f"(({lean(inner)} : {ty_of(inner)}) : {t[2]})"
    if k == "^":
        return f"({lean(t[1])} ^ {t[2]})"
    if k == "neg":
        return f"(-{lean(t[1])})"
    if k == "abs":
        return f"(|{lean(t[1])}|)"
    if k in ("min", "max"):
        return f"({k} {lean(t[1])} {lean(t[2])})"
    if k == "cmp":
        return f"{lean(t[2])} {t[1]} {lean(t[3])}"
    if k == "dvd":
        return f"{lean(t[1])} ∣ {lean(t[2])}"
    if k in ("and", "or"):
        return f"({lean(t[1])}) {'∧' if k == 'and' else '∨'} ({lean(t[2])})"
    if k == "not":
        return f"¬({lean(t[1])})"
    if k == "imp":
        return f"(({lean(t[1])}) → ({lean(t[2])}))"
    if k == "false":
        return "False"
    if k == "app":
        return f"(f {lean(t[1])})"
    if k == "gcd":
        return f"(Nat.gcd {lean(t[1])} {lean(t[2])})"
    if k == "fact":
        return f"(Nat.factorial ({t[1]} : ℕ))"
    if k == "floor":
        return f"⌊{lean(t[1])}⌋"
    if k == "sum":
        return f"(∑ k ∈ Finset.Icc ({t[1]} : ℕ) {t[2]}, {lean(t[3])})"
    return f"({lean(t[1])} {k} {lean(t[2])})"


@dataclass
class Problem:
    variables: dict[str, str]
    hyps: list[tuple]
    goal: tuple
    function: tuple | None = None  # (T, body over t): `f : T → T` with `hf : ∀ t : T, f t = body`

    def statement(self) -> str:
        groups: dict[str, list[str]] = {}
        for v, ty in self.variables.items():
            groups.setdefault(ty, []).append(v)
        binders = " ".join(f"({' '.join(vs)} : {ty})" for ty, vs in groups.items())
        if self.function is not None:
            ty, body = self.function
            binders += f" (f : {ty} → {ty}) (hf : ∀ t : {ty}, f t = {lean(body)})"
        hyps = " ".join(f"(h{i + 1} : {lean(h)})" for i, h in enumerate(self.hyps))
        return f"{binders} {hyps} : {lean(self.goal)}".replace("  ", " ")

    def expand(self, t: tuple) -> tuple:
        """The tree with `f` unfolded by its definition and sums written out term by term (for the oracles)."""
        k = t[0]
        if k in ("num", "var", "fact"):
            return t
        if k == "app":
            arg = self.expand(t[1])
            return _replace_var(self.expand(self.function[1]), "t", arg)
        if k == "sum":
            _, lo, hi, body, ty = t
            terms = [_replace_var(self.expand(body), "k", ("num", Fraction(i), NAT)) for i in range(lo, hi + 1)]
            out: tuple = ("num", Fraction(0), ty)
            for term in terms:
                out = ("+", out, term, ty)
            return out
        if k == "^":
            return ("^", self.expand(t[1]), t[2], t[3])
        return tuple(self.expand(x) if isinstance(x, tuple) else x for x in t)


def _replace_var(t: tuple, name: str, value: tuple) -> tuple:
    if t[0] == "var":
        return value if t[1] == name else t
    return tuple(_replace_var(x, name, value) if isinstance(x, tuple) else x for x in t)


# ------------------------------------------------------------------------------------------------ scripts
def scripts(problem: Problem, rng: random.Random, count: int) -> list[str]:
    """Tactic scripts a prover might propose for this problem, well-typed or not."""
    hyps = [f"h{i + 1}" for i in range(len(problem.hyps))]
    vs = list(problem.variables)
    h = rng.choice(hyps) if hyps else "h1"
    h2 = rng.choice(hyps) if hyps else "h1"
    x, y = rng.choice(vs), rng.choice(vs)
    hints = [f"sq_nonneg ({x} - {y})", f"sq_nonneg ({x} + {y})", f"mul_pos {h} {h2}", f"mul_nonneg {h} {h2}",
             f"abs_nonneg {x}", f"mul_self_nonneg {x}", f"sq_abs {x}", f"pow_pos {h} 2", f"abs_le.mp {h}",
             f"le_of_lt {h}", f"{h}.le", f"abs_sub_comm {x} {y}", f"mul_pos_of_neg_of_neg {h} {h2}", f"{h}.1",
             f"{h}.symm", f"sub_nonneg.mpr {h}", f"abs_of_nonneg {h}", f"abs_of_neg {h}", "le_refl 0",
             f"Nat.mod_lt {x} {h}", f"add_pos {h} {h2}", f"div_pos {h} {h2}"]
    hint = ", ".join(rng.sample(hints, rng.randint(1, 3)))
    pool = [
        "norm_num", "simp", "linarith", "nlinarith", "positivity", "omega", "decide", "ring", "ring_nf",
        "field_simp", "push_cast", "norm_cast", "simp_all", "exact?", "rfl", "trivial", "assumption",
        f"nlinarith [{hint}]", f"linarith [{hint}]", f"have hh := {rng.choice(hints)}\n  nlinarith",
        f"norm_num at {h} ⊢", f"norm_num at {h}\n  linarith", f"simp at {h}", f"simp [{h}]", f"norm_num [{h}]",
        f"field_simp at {h} ⊢\n  linarith", "field_simp\n  ring", f"field_simp\n  nlinarith [{hint}]",
        f"interval_cases {x} <;> omega", f"interval_cases {x} <;> simp_all", f"interval_cases {x} <;> norm_num",
        f"rcases {h} with hh | hh <;> nlinarith", f"obtain ⟨ha, hb⟩ := {h}\n  linarith",
        f"cases' abs_cases {x} with hh hh <;> nlinarith [{hint}]",
        f"cases' le_total {x} {y} with hh hh <;> nlinarith",
        f"rw [{h}]", f"rw [{h}]\n  norm_num", f"rw [← {h}]\n  ring", f"rw [{h}] at {h2}\n  linarith",
        f"subst {x}\n  norm_num", f"subst {h}\n  simp_all", f"exact {h}", f"exact_mod_cast {h}",
        f"nlinarith [{h}, {h2}, {hint}]", "norm_num\n  linarith", "ring_nf\n  nlinarith", "push_cast\n  linarith",
        f"by_contra hc\n  push_neg at hc\n  nlinarith [{hint}]", f"exact {rng.choice(hints)}",
        f"apply {rng.choice(['mul_pos', 'add_pos', 'le_of_lt', 'abs_nonneg', 'mul_nonneg'])} <;> nlinarith",
        "constructor <;> norm_num", "left\n  linarith", "right\n  linarith",
        f"rw [abs_of_nonneg {h}]\n  linarith", "rw [mul_comm]\n  nlinarith", f"simp only [mul_comm] at {h} ⊢",
        f"have hh : {x} = {x} := rfl\n  nlinarith [{hint}]", "positivity\n  nlinarith",
        f"norm_num [{h}, {h2}] at *", f"simp_all [{h}]\n  nlinarith", "omega\n  linarith",
        "refine ⟨by linarith, by linarith⟩", f"exact ⟨by nlinarith [{hint}], by nlinarith⟩",
        f"exact absurd {h} (by norm_num)", f"exact (abs_lt.mp {h}).2",
        "simp [hf]", "norm_num [hf]", "simp only [hf]\n  norm_num", "rw [hf]\n  norm_num", "simp_all",
        f"have h0 := hf {x}\n  nlinarith [h0]", "norm_num [hf, Finset.sum_Icc_succ_top]",
        "simp [Finset.sum_Icc_succ_top]", "decide", "norm_num [Nat.gcd]", f"nlinarith [hf {x}, hf 0]",
        f"induction' {x} with n ih <;> simp_all", f"cases {x} <;> simp_all",
    ]
    # one conversion script besides the sample, picked without the generator (so the sample stays as it was)
    conv = [f"conv => lhs; rw [{h}]", f"conv_lhs => rw [{h}]\n  norm_num", f"conv_rhs => rw [← {h}]\n  ring",
            "conv => rhs; rw [mul_comm]", f"conv => lhs; rw [{h}]\n  linarith"]
    return rng.sample(pool, min(count, len(pool))) + [conv[(len(hyps) + len(vs) + len(x)) % len(conv)]]


# ------------------------------------------------------------------------------------------------ z3 oracle
class Z3Oracle:
    """z3 encoding of the generator's trees with Lean's semantics (ℕ as non-negative integers)."""

    def __init__(self, variables: dict[str, str]):
        self.vars = {}
        self.side = []
        for v, ty in variables.items():
            if ty in (NAT, INT):
                self.vars[v] = z3.Int(v)
                if ty == NAT:
                    self.side.append(self.vars[v] >= 0)
            else:
                self.vars[v] = z3.Real(v)

    def term(self, t: tuple):
        k, ty = t[0], ty_of(t)
        if k == "num":
            v = t[1]
            return z3.IntVal(int(v)) if ty in (NAT, INT) else z3.RealVal(f"{v.numerator}/{v.denominator}")
        if k == "var":
            return self.vars[t[1]]
        if k == "cast":
            inner = self.term(t[1])
            return z3.ToReal(inner) if ty in (RAT, REAL) and ty_of(t[1]) in (NAT, INT) else inner
        if k == "^":
            base = self.term(t[1])
            out = z3.IntVal(1) if ty in (NAT, INT) else z3.RealVal(1)
            for _ in range(t[2]):
                out = out * base
            return out
        if k == "neg":
            return -self.term(t[1])
        if k == "abs":
            a = self.term(t[1])
            return z3.If(a >= 0, a, -a)
        if k == "fact":
            return z3.IntVal(math.factorial(t[1]))
        if k == "floor":
            return z3.ToInt(self.term(t[1]))  # SMT-LIB to_int is the floor
        if k == "gcd":
            raise Undefined("gcd is left to the grid oracle")
        a, b = self.term(t[1]), self.term(t[2])
        if k == "+":
            return a + b
        if k == "*":
            return a * b
        if k == "-":
            return z3.If(a >= b, a - b, 0) if ty == NAT else a - b
        if k == "min":
            return z3.If(a <= b, a, b)
        if k == "max":
            return z3.If(a >= b, a, b)
        if k == "/":
            if ty in (NAT, INT):  # SMT-LIB div is Euclidean, as Lean's Int.ediv; only b = 0 needs a case
                return z3.If(b == 0, 0, a / b)
            return z3.If(b == 0, z3.RealVal(0), a / b)
        if k == "%":
            return z3.If(b == 0, a, a % b)
        raise ValueError(k)

    def prop(self, p: tuple):
        k = p[0]
        if k == "false":
            return z3.BoolVal(False)
        if k == "cmp":
            a, b = self.term(p[2]), self.term(p[3])
            return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b}[p[1]]
        if k == "dvd":
            a, b = self.term(p[1]), self.term(p[2])
            return z3.If(a == 0, b == 0, b % a == 0)
        if k == "not":
            return z3.Not(self.prop(p[1]))
        if k == "imp":
            return z3.Implies(self.prop(p[1]), self.prop(p[2]))
        parts = [self.prop(p[1]), self.prop(p[2])]
        return z3.And(parts) if k == "and" else z3.Or(parts)


def z3_verdict(problem: Problem, timeout_ms: int) -> tuple[str, dict | None]:
    """("true", None), ("false", counterexample) or ("unknown", None) for hypotheses ⇒ goal."""
    oracle = Z3Oracle(problem.variables)
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    for s in oracle.side:
        solver.add(s)
    try:
        for h in problem.hyps:
            solver.add(oracle.prop(problem.expand(h)))
        solver.add(z3.Not(oracle.prop(problem.expand(problem.goal))))
    except Undefined:
        return "unknown", None
    result = solver.check()
    if result == z3.unsat:
        return "true", None
    if result == z3.sat:
        model = solver.model()
        point = {}
        for v, ty in problem.variables.items():
            val = model.eval(oracle.vars[v], model_completion=True)
            if ty in (RAT, REAL):
                if not z3.is_rational_value(val):
                    return "unknown", None  # an irrational witness: confirm on the grid instead
                point[v] = Fraction(val.numerator_as_long(), val.denominator_as_long())
            else:
                point[v] = Fraction(val.as_long())
        # a model is only a counterexample if exact evaluation agrees (guards against encoding doubts)
        hyps, goal = [problem.expand(h) for h in problem.hyps], problem.expand(problem.goal)
        if holds_all(hyps, point) and not holds(goal, point):
            return "false", point
        return "unknown", None
    return "unknown", None


# ------------------------------------------------------------------------------------------------ grid oracle
class Undefined(Exception):
    pass


def value(t: tuple, env: dict) -> Fraction:
    k, ty = t[0], ty_of(t)
    if k == "num":
        return t[1]
    if k == "var":
        return env[t[1]]
    if k == "cast":
        return value(t[1], env)
    if k == "^":
        return value(t[1], env) ** t[2]
    if k == "neg":
        return -value(t[1], env)
    if k == "abs":
        return abs(value(t[1], env))
    if k == "fact":
        return Fraction(math.factorial(t[1]))
    if k == "floor":
        return Fraction(math.floor(value(t[1], env)))
    if k == "gcd":
        return Fraction(math.gcd(int(value(t[1], env)), int(value(t[2], env))))
    a, b = value(t[1], env), value(t[2], env)
    if k == "+":
        return a + b
    if k == "*":
        return a * b
    if k == "-":
        return max(a - b, Fraction(0)) if ty == NAT else a - b
    if k == "min":
        return min(a, b)
    if k == "max":
        return max(a, b)
    if k in ("/", "%"):
        if ty in (RAT, REAL):
            if k == "%":
                raise Undefined("% in a field")
            return Fraction(0) if b == 0 else a / b
        ai, bi = int(a), int(b)
        if bi == 0:
            return Fraction(0) if k == "/" else Fraction(ai)
        r = ai % abs(bi)  # Euclidean: 0 ≤ r < |b|
        return Fraction((ai - r) // bi) if k == "/" else Fraction(r)
    raise Undefined(k)


def holds(p: tuple, env: dict) -> bool:
    k = p[0]
    if k == "false":
        return False
    if k == "cmp":
        a, b = value(p[2], env), value(p[3], env)
        return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b}[p[1]]
    if k == "dvd":
        a, b = value(p[1], env), value(p[2], env)
        return b == 0 if a == 0 else int(b) % int(a) == 0
    if k == "not":
        return not holds(p[1], env)
    if k == "imp":
        return (not holds(p[1], env)) or holds(p[2], env)
    if k == "and":
        return holds(p[1], env) and holds(p[2], env)
    return holds(p[1], env) or holds(p[2], env)


def holds_all(props: list[tuple], env: dict) -> bool:
    return all(holds(p, env) for p in props)


GRID = {NAT: [Fraction(v) for v in range(0, 7)], INT: [Fraction(v) for v in range(-5, 6)],
        RAT: sorted({Fraction(n, d) for n in range(-8, 9) for d in (1, 2, 3)}),
        REAL: sorted({Fraction(n, d) for n in range(-8, 9) for d in (1, 2, 3)})}


def grid_counterexample(problem: Problem, limit: int = 20000) -> dict | None:
    names = list(problem.variables)
    hyps, goal = [problem.expand(h) for h in problem.hyps], problem.expand(problem.goal)
    for point in itertools.islice(itertools.product(*(GRID[problem.variables[v]] for v in names)), limit):
        env = dict(zip(names, point, strict=True))
        try:
            if holds_all(hyps, env) and not holds(goal, env):
                return env
        except (Undefined, ZeroDivisionError, OverflowError):
            continue
    return None


# ------------------------------------------------------------------------------------------------ the search
@dataclass
class Report:
    problems: int = 0
    scripts: int = 0
    closed: int = 0
    proved_true: int = 0  # z3 proved the closed claim
    grid_only: int = 0  # z3 undecided, no counterexample on the grid
    counterexamples: list[tuple[str, str, dict]] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [f"soundness search: {self.problems} random problems, {self.scripts} tactic scripts, "
                f"{self.closed} goals closed by minilean",
                f"  closed goals checked by z3: {self.proved_true}; by grid evaluation only: {self.grid_only}; "
                f"counterexamples: {len(self.counterexamples)}"]


ERAS = (2025, 2024, 2023)


def search(problems: int, seed: int = 0, scripts_per_problem: int = 14, solver_ms: int = 1000,
           z3_ms: int = 2000, deadline_s: float | None = None, extra_scripts: Sequence[str] = ()) -> Report:
    """`extra_scripts` run on every problem besides the generated ones: e.g. the tactics a trained policy emits
    most (a policy trained against a verifier is the strongest fuzzer of its holes)."""
    from .frontend import check_declaration

    rng = random.Random(seed)
    gen = Generator(rng)
    report = Report()
    started = time.monotonic()
    for _ in range(problems):
        if deadline_s is not None and time.monotonic() - started > deadline_s:
            break
        problem = gen.problem()
        report.problems += 1
        statement = problem.statement()
        verdict: tuple[str, dict | None] | None = None
        for script in [*scripts(problem, rng, scripts_per_problem), *extra_scripts]:
            report.scripts += 1
            # the rules of older Lean/Mathlib eras (the real proofs are replayed with them) are searched too
            era = ERAS[report.scripts % len(ERAS)]
            try:
                messages, _, used_sorry = check_declaration(f"theorem t {statement} := by\n  {script}",
                                                            solver_ms=solver_ms, mathlib=era)
            except RecursionError:
                continue
            if used_sorry or any(sev == "error" for sev, _, _ in messages):
                continue
            report.closed += 1
            if verdict is None:
                verdict = z3_verdict(problem, z3_ms)
                if verdict[0] == "unknown":
                    witness = grid_counterexample(problem)
                    verdict = ("false", witness) if witness is not None else ("grid", None)
            if verdict[0] == "true":
                report.proved_true += 1
            elif verdict[0] == "grid":
                report.grid_only += 1
            else:
                report.counterexamples.append((statement, f"{script}  -- with --mathlib {era}", verdict[1] or {}))
    report.seconds = time.monotonic() - started
    return report
