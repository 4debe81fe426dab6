"""Finishing decision tactics with the strength of their Lean counterparts (docs/minilean-lean-facts.md, decision tactics):
linarith, nlinarith (hint terms), omega, positivity, decide. Each closes the main goal or fails with
Lean's message; none ever closes a false goal (see `solvers.py`).
"""

from __future__ import annotations

from ..goals import Goal, Hyp
from ..matching import normal_rel
from ..parser import ParseError, parse_term
from ..poly import Atoms
from ..semantics import NotEvaluable, decide_value, evaluate
from ..solvers import (
    SolverTimeout,
    atom_facts,
    comparison_fact,
    linear_refutes,
    negate_goal,
    omega_refutes,
    product_facts,
    split_conjunctions,
    square_facts,
)
from ..terms import FALSE, INT, NAT, Cmp, Conn, Imp, Num, Op, Quant, Term, free_vars, pretty
from .args import split_list
from .engine import Context, TacticError, tactic
from .script import Atomic
from .structural import _intro_one, prove_term


def _linarith_failure(goal: Goal, extra: Term | None) -> TacticError:
    hyps = goal.hyps + ((Hyp(0, "a", extra, True),) if extra is not None else ())
    shown = Goal(FALSE, hyps, goal.tag).render()
    return TacticError(f"linarith failed to find a contradiction\n{shown}\nfailed")


def _hint_props(goal: Goal, node: Atomic) -> tuple[list[Term], bool]:
    rest = node.rest.strip()
    only = False
    if rest.startswith("only"):
        only, rest = True, rest[4:].strip()
    if rest.startswith("!"):
        rest = rest[1:].strip()
    items, tail = split_list(rest)
    if tail:
        raise ParseError(f"unexpected '{tail.split()[0]}' after the hint list", node.line, node.column)
    hints = []
    for item in items:
        try:
            parse_term(item)
        except ParseError as exc:
            raise ParseError(exc.message, node.line, node.column) from None
        hints.append(prove_term(goal, item))
    return hints, only


@tactic("linarith", "nlinarith", "linarith!", "nlinarith!")
def linarith(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    hints, only = _hint_props(goal, node)
    nonlinear = node.name.startswith("nlinarith")
    hyps = hints + ([] if only else [h.type for h in goal.hyps if not h.is_var])
    hyps = split_conjunctions(hyps)
    runs = negate_goal(goal.target)
    for extra in runs:
        atoms = Atoms()
        facts = [f for f in (comparison_fact(p, atoms) for p in hyps + extra) if f is not None]
        if nonlinear:
            terms = hyps + extra + [goal.target]
            base = facts + square_facts(terms, atoms)
            facts = base + product_facts(base)
        facts += atom_facts(atoms)
        try:
            ok = linear_refutes(facts, ctx.remaining_ms())
        except SolverTimeout:
            ctx.check_interrupt()
            ok = False
        if not ok:
            raise _linarith_failure(goal, extra[0] if extra else None)
    return []


@tactic("positivity")
def positivity(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    t = normal_rel(goal.target)
    want: str
    if isinstance(t, Cmp) and t.op in ("<", "≤") and _is_zero(t.lhs):
        expr, want = t.rhs, "pos" if t.op == "<" else "nonneg"
    elif isinstance(t, Conn) and t.op == "not" and isinstance(t.args[0], Cmp) and t.args[0].op == "=":
        eq = t.args[0]
        if _is_zero(eq.rhs):
            expr, want = eq.lhs, "ne"
        elif _is_zero(eq.lhs):
            expr, want = eq.rhs, "ne"
        else:
            raise TacticError("not a positivity goal")
    else:
        raise TacticError("not a positivity goal")
    hyps = [normal_rel(h.type) for h in goal.hyps if not h.is_var]
    got = _sign(expr, hyps)
    if want == "pos" and got == "pos" or want == "nonneg" and got in ("pos", "nonneg") \
            or want == "ne" and got in ("pos", "ne"):
        return []
    if want == "pos" and got == "nonneg":
        raise TacticError("failed to prove strict positivity, but it would be possible to prove nonnegativity if "
                          "desired")
    raise TacticError("failed to prove positivity/nonnegativity/nonzeroness")


def _is_zero(t: Term) -> bool:
    return isinstance(t, Num) and t.value == 0 or (isinstance(t, Op) and t.op == "cast" and _is_zero(t.args[0]))


def _sign(e: Term, hyps: list[Term]) -> str | None:
    """'pos', 'nonneg', 'ne' or None, by syntactic recursion like Mathlib's positivity extensions."""
    best = _sign_core(e, hyps)
    from_hyp = _sign_from_hyps(e, hyps)
    return _better(best, from_hyp)


def _better(a: str | None, b: str | None) -> str | None:
    order = {None: 0, "ne": 1, "nonneg": 1, "pos": 3}
    if {a, b} == {"ne", "nonneg"}:
        return "pos"
    return a if order[a] >= order[b] else b


def _sign_from_hyps(e: Term, hyps: list[Term]) -> str | None:
    out = None
    for h in hyps:
        if isinstance(h, Cmp) and h.op in ("<", "≤") and h.rhs == e:
            try:
                c = evaluate(h.lhs) if not free_vars(h.lhs) else None
            except NotEvaluable:
                c = None
            if c is not None and (c > 0 or (c == 0 and h.op == "<")):
                out = _better(out, "pos")
            elif c is not None and c >= 0:
                out = _better(out, "nonneg")
        if isinstance(h, Cmp) and h.op == "=" and (h.lhs == e or h.rhs == e):
            other = h.rhs if h.lhs == e else h.lhs
            if not free_vars(other):
                try:
                    c = evaluate(other)
                    out = _better(out, "pos" if c > 0 else "nonneg" if c == 0 else "ne")
                except NotEvaluable:
                    pass
        if isinstance(h, Conn) and h.op == "not" and isinstance(h.args[0], Cmp) and h.args[0].op == "=":
            eq = h.args[0]
            if (eq.lhs == e and _is_zero(eq.rhs)) or (eq.rhs == e and _is_zero(eq.lhs)):
                out = _better(out, "ne")
    return out


def _sign_core(e: Term, hyps: list[Term]) -> str | None:
    if not free_vars(e):
        try:
            v = evaluate(e)
            return "pos" if v > 0 else "nonneg" if v == 0 else "ne"
        except NotEvaluable:
            pass
    if e.ty == NAT:
        base = "nonneg"
    else:
        base = None
    if not isinstance(e, Op):
        return _better(base, _sign_from_hyps(e, hyps))
    a = [_sign(x, hyps) for x in e.args] if e.op != "^" else [_sign(e.args[0], hyps)]
    op = e.op
    result: str | None = None
    if op == "+":
        if "pos" in a and all(s in ("pos", "nonneg") for s in a):
            result = "pos"
        elif all(s in ("pos", "nonneg") for s in a):
            result = "nonneg"
    elif op == "*":
        if all(s == "pos" for s in a):
            result = "pos"
        elif all(s in ("pos", "nonneg") for s in a):
            result = "nonneg"
        elif all(s in ("pos", "ne") for s in a):
            result = "ne"
    elif op == "/" and e.ty != NAT and e.ty != INT:
        if all(s == "pos" for s in a):
            result = "pos"
        elif all(s in ("pos", "nonneg") for s in a):
            result = "nonneg"
        elif all(s in ("pos", "ne") for s in a):
            result = "ne"
    elif op == "/" and e.ty == INT:
        if all(s in ("pos", "nonneg") for s in a):
            result = "nonneg"
    elif op == "^":
        exponent = e.args[1]
        even = isinstance(exponent, Num) and exponent.value % 2 == 0
        if a[0] == "pos":
            result = "pos"
        elif even and a[0] == "ne":
            result = "pos"
        elif a[0] == "nonneg" or even:
            result = "nonneg"
        elif a[0] == "ne":
            result = "ne"
        if isinstance(exponent, Num) and exponent.value == 0:
            result = "pos"
    elif op == "abs":
        result = "pos" if a[0] in ("pos", "ne") else "nonneg"
    elif op == "sqrt":
        result = "pos" if a[0] == "pos" else "nonneg"
    elif op == "cast":
        result = a[0] if a[0] is not None else ("nonneg" if e.args[0].ty == NAT else None)
    elif op == "min":
        if all(s == "pos" for s in a):
            result = "pos"
        elif all(s in ("pos", "nonneg") for s in a):
            result = "nonneg"
    elif op == "max":
        if "pos" in a:
            result = "pos"
        elif "nonneg" in a:
            result = "nonneg"
    elif op == "natAbs":
        result = "pos" if a[0] in ("pos", "ne") else "nonneg"
    elif op == "toNat":
        result = "pos" if a[0] == "pos" else "nonneg"
    return _better(_better(result, base), _sign_from_hyps(e, hyps))


@tactic("omega")
def omega(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    if node.rest.strip():
        raise ParseError("unexpected argument to omega", node.line, node.column)
    # falseOrByContra: introduce ∀ and → binders, then refute the negated goal
    while isinstance(goal.target, Imp) or (isinstance(goal.target, Quant) and goal.target.q == "∀"):
        goal = _intro_one(goal, None, True)
    t = goal.target
    negated = None if t == FALSE else Conn("not", (t,))
    hyps = [h.type for h in goal.hyps if not h.is_var]
    try:
        refuted, usable = omega_refutes(hyps, negated, ctx.remaining_ms())
    except SolverTimeout:
        ctx.check_interrupt()
        refuted, usable = False, True
    if refuted:
        return []
    if not usable:
        raise TacticError("omega could not prove the goal:\nNo usable constraints found. You may need to unfold "
                          "definitions so `omega` can see linear arithmetic facts about `Nat` and `Int`, which may "
                          "also involve multiplication, division, and modular remainder by constants.")
    raise TacticError("omega could not prove the goal:\na possible counterexample may satisfy the constraints\n"
                      + goal.render())


@tactic("decide")
def decide(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    t = goal.target
    if free_vars(t):
        raise TacticError(f"expected type must not contain free or meta variables\n  {goal.pp_target()}")
    value = decide_value(t)
    if value is None:
        raise TacticError(f"failed to synthesize\n  Decidable ({goal.pp_target()})\n(minilean decides closed "
                          "propositions over ℕ ℤ ℚ only: ℝ's order is classical)")
    if value:
        return []
    raise TacticError(f"tactic 'decide' proved that the proposition\n  {goal.pp_target()}\nis false")


def _subterms(t: Term):
    yield t
    for c in t.children():
        yield from _subterms(c)


__all__ = ["pretty"]
