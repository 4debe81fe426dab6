"""Simp-like tactics: norm_num, simp, simp_all, push_neg, and `at h` locations (lean-semantics 2.4, 2.5).

They rewrite with a small model of the default simp set (evaluation of literal arithmetic, `a > b` to `b < a`,
`¬a < b` to `b ≤ a`, propositional constants, `x + 0`, …) plus the hypotheses passed in `[…]`. They close the
goal when it becomes True (or a hypothesis becomes False) and fail with Lean's message when nothing changed.
norm_num evaluates literals in every numeric type; simp only in ℕ and ℤ (Lean's simprocs).
"""

from __future__ import annotations

from fractions import Fraction

from ..goals import Goal, Hyp
from ..matching import normal_rel
from ..semantics import NotEvaluable, compare, evaluate
from ..terms import (
    FALSE,
    INT,
    NAT,
    TRUE,
    Cmp,
    Conn,
    Const,
    Imp,
    Num,
    Op,
    Quant,
    Term,
    free_vars,
    num,
    rebuild,
)
from .args import rewrite_at, split_list, split_location
from .engine import Context, TacticError, tactic
from .script import Atomic
from .structural import prove_term

_FLIP = {">": "<", "≥": "≤"}
_NEGATE = {"<": "≤", "≤": "<"}


class Simplifier:
    def __init__(self, mode: str, rules: list[tuple[Term, Term]]):
        self.mode = mode  # "norm_num" or "simp"
        self.rules = rules

    def run(self, t: Term) -> Term:
        for _ in range(8):
            new = self._simp(t)
            if new == t:
                return t
            t = new
        return t

    def _can_eval(self, t: Term) -> bool:
        return self.mode == "norm_num" or t.ty in (NAT, INT)

    def _simp(self, t: Term) -> Term:
        for lhs, rhs in self.rules:
            if t == lhs:
                return rhs
        if isinstance(t, Quant):
            return t
        kids = t.children()
        if kids:
            new_kids = tuple(self._simp(k) for k in kids)
            if new_kids != kids:
                t = rebuild(t, new_kids)
        return self._node(t)

    def _node(self, t: Term) -> Term:
        if isinstance(t, Op):
            if not free_vars(t) and self._can_eval(t):
                try:
                    v = evaluate(t)
                    return num(v, t.ty)
                except NotEvaluable:
                    pass
            return _arith_identities(t)
        if isinstance(t, Cmp):
            if t.op in _FLIP:
                return Cmp(_FLIP[t.op], t.rhs, t.lhs)
            if t.op == "≠":
                return Conn("not", (Cmp("=", t.lhs, t.rhs),))
            if not free_vars(t) and self._can_eval(t.lhs):
                try:
                    return TRUE if compare(t.op, evaluate(t.lhs), evaluate(t.rhs), t.lhs.ty) else FALSE
                except NotEvaluable:
                    pass
            if t.lhs == t.rhs and t.op != "∣":
                return TRUE if t.op in ("=", "≤", "≥") else FALSE
            return t
        if isinstance(t, Conn):
            a = t.args
            if t.op == "not":
                x = a[0]
                if isinstance(x, Const):
                    return Const(not x.value)
                if isinstance(x, Conn) and x.op == "not":
                    return x.args[0]
                if isinstance(x, Cmp) and x.op in _NEGATE:
                    return Cmp(_NEGATE[x.op], x.rhs, x.lhs)
                return t
            x, y = a
            if t.op == "and":
                if x == TRUE:
                    return y
                if y == TRUE:
                    return x
                if FALSE in (x, y):
                    return FALSE
                if x == y:
                    return x
            if t.op == "or":
                if TRUE in (x, y):
                    return TRUE
                if x == FALSE:
                    return y
                if y == FALSE:
                    return x
                if x == y:
                    return x
            if t.op == "iff":
                if x == y:
                    return TRUE
                if x == TRUE:
                    return y
                if y == TRUE:
                    return x
            return t
        if isinstance(t, Imp):
            if t.lhs == TRUE:
                return t.rhs
            if t.lhs == FALSE or t.rhs == TRUE:
                return TRUE
            return t
        return t


def _is_num(t: Term, v: int) -> bool:
    return isinstance(t, Num) and t.value == v and t.sci is None


def _arith_identities(t: Op) -> Term:
    a = t.args
    if t.op == "+":
        if _is_num(a[1], 0):
            return a[0]
        if _is_num(a[0], 0):
            return a[1]
    if t.op == "-" and _is_num(a[1], 0):
        return a[0]
    if t.op == "*":
        if _is_num(a[1], 1):
            return a[0]
        if _is_num(a[0], 1):
            return a[1]
        if _is_num(a[0], 0) or _is_num(a[1], 0):
            return Num(Fraction(0), t.ty)
    if t.op == "/" and _is_num(a[1], 1):
        return a[0]
    if t.op == "^":
        if _is_num(a[1], 1):
            return a[0]
        if _is_num(a[1], 0):
            return Num(Fraction(1), t.ty)
    if t.op == "neg" and isinstance(a[0], Op) and a[0].op == "neg":
        return a[0].args[0]
    return t


def _rules_from(goal: Goal, items: list[str]) -> list[tuple[Term, Term]]:
    rules: list[tuple[Term, Term]] = []
    for item in items:
        reverse = item.startswith("←")
        text = item.lstrip("←").strip()
        if text == "*":
            props = [h.type for h in goal.hyps if not h.is_var]
        else:
            props = [prove_term(goal, text)]
        for p in props:
            rules.extend(_rules_of(p, reverse))
    return rules


def _rules_of(p: Term, reverse: bool = False) -> list[tuple[Term, Term]]:
    if isinstance(p, Cmp) and p.op == "=":
        return [(p.rhs, p.lhs)] if reverse else [(p.lhs, p.rhs)]
    if isinstance(p, Conn) and p.op == "and":
        return _rules_of(p.args[0]) + _rules_of(p.args[1])
    if isinstance(p, Conn) and p.op == "iff":
        return [(p.args[0], p.args[1])]
    if isinstance(p, Conn) and p.op == "not":
        inner = p.args[0]
        return [(inner, FALSE)] + ([(normal_rel(inner), FALSE)] if normal_rel(inner) != inner else [])
    if isinstance(p, Cmp) and p.op == "≠":
        return [(Cmp("=", p.lhs, p.rhs), FALSE)]
    out = [(p, TRUE)]
    q = Simplifier("norm_num", []).run(p)
    if q != p:
        out.append((q, TRUE))
    return out


def _simp_tactic(goal: Goal, node: Atomic, ctx: Context, mode: str, name: str) -> list[Goal]:
    rest = node.rest.strip()
    for prefix in ("only", "arith"):
        if rest.startswith(prefix):
            rest = rest[len(prefix):].strip()
    items, rest = split_list(rest)
    _, locations, at_goal = split_location(rest) if rest else ("", None, True)
    if rest and locations is None and rest.strip():
        raise TacticError(f"{name}: unsupported arguments '{rest}'")
    rules = _rules_from(goal, items)
    simp = Simplifier(mode, rules)
    changed = False
    hyps = list(goal.hyps)
    if locations:
        targets = [h for h in goal.hyps if not h.is_var] if locations == ["*"] else []
        for loc in locations if locations != ["*"] else []:
            h = goal.find_hyp(loc)
            if h is None or h.is_var:
                raise TacticError(f"unknown hypothesis '{loc}'")
            targets.append(h)
        for h in targets:
            own_rules = [r for r in rules if r[0] != h.type]
            new = Simplifier(mode, own_rules).run(h.type)
            if new == h.type:
                continue
            changed = True
            if new == FALSE:
                return []  # a hypothesis reduced to False closes the goal
            idx = next(i for i, x in enumerate(hyps) if x.fid == h.fid)
            if new == TRUE:
                hyps.pop(idx)
            else:
                hyps[idx] = Hyp(h.fid, h.name, new, h.inaccessible)
    target = goal.target
    if at_goal:
        new_target = simp.run(target)
        if new_target != target:
            changed = True
            target = new_target
    if not changed:
        raise TacticError(f"{name} made no progress" if mode == "norm_num" else "simp made no progress")
    if target == TRUE:
        return []
    if target == FALSE and mode == "norm_num" and at_goal:
        raise TacticError(f"{name} failed: the goal simplifies to False")
    return [Goal(target, tuple(hyps), goal.tag)]


@tactic("norm_num", "norm_num1")
def norm_num(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return _simp_tactic(goal, node, ctx, "norm_num", "norm_num")


@tactic("simp", "simp_arith", "dsimp", "simp?")
def simp(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return _simp_tactic(goal, node, ctx, "simp", "simp")


@tactic("simp_all")
def simp_all(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    if node.rest.strip() and not node.rest.strip().startswith("["):
        raise TacticError("simp_all: unsupported arguments")
    items, _ = split_list(node.rest.strip())
    extra = _rules_from(goal, items)
    start = goal
    for _ in range(3):
        hyps = list(goal.hyps)
        for i, h in enumerate(hyps):
            if h.is_var:
                continue
            rules = extra + [r for o in hyps if not o.is_var and o.fid != h.fid for r in _rules_of(o.type)]
            new = Simplifier("simp", rules).run(h.type)
            if new == FALSE:
                return []
            hyps[i] = Hyp(h.fid, h.name, new, h.inaccessible)
        hyps = [h for h in hyps if h.is_var or h.type != TRUE]
        rules = extra + [r for o in hyps if not o.is_var for r in _rules_of(o.type)]
        target = Simplifier("simp", rules).run(goal.target)
        goal = Goal(target, tuple(hyps), goal.tag)
        if target == TRUE:
            return []
    if goal == start or (goal.target == start.target and goal.hyps == start.hyps):
        raise TacticError("simp_all made no progress")
    return [goal]


def push_neg_prop(p: Term) -> Term:
    """Push ¬ inward as Mathlib's push_neg does (¬(p ∧ q) becomes p → ¬q)."""
    if isinstance(p, Conn) and p.op == "not":
        x = p.args[0]
        if isinstance(x, Conn) and x.op == "not":
            return push_neg_prop(x.args[0])
        if isinstance(x, Conn) and x.op == "and":
            return Imp(push_neg_prop(x.args[0]), push_neg_prop(Conn("not", (x.args[1],))))
        if isinstance(x, Conn) and x.op == "or":
            return Conn("and", (push_neg_prop(Conn("not", (x.args[0],))), push_neg_prop(Conn("not", (x.args[1],)))))
        if isinstance(x, Imp):
            return Conn("and", (push_neg_prop(x.lhs), push_neg_prop(Conn("not", (x.rhs,)))))
        if isinstance(x, Quant):
            q = "∃" if x.q == "∀" else "∀"
            return Quant(q, x.fid, x.name, x.var_ty, push_neg_prop(Conn("not", (x.body,))))
        if isinstance(x, Cmp):
            table = {"<": ("≤", True), "≤": ("<", True), ">": ("≤", False), "≥": ("<", False), "=": ("≠", False),
                     "≠": ("=", False)}
            if x.op in table:
                op, swap = table[x.op]
                return Cmp(op, x.rhs, x.lhs) if swap else Cmp(op, x.lhs, x.rhs)
        if isinstance(x, Const):
            return Const(not x.value)
        return p
    if isinstance(p, Conn):
        return Conn(p.op, tuple(push_neg_prop(a) for a in p.args))
    if isinstance(p, Imp):
        return Imp(push_neg_prop(p.lhs), push_neg_prop(p.rhs), p.name)
    if isinstance(p, Quant):
        return Quant(p.q, p.fid, p.name, p.var_ty, push_neg_prop(p.body))
    return p


@tactic("push_neg")
def push_neg(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    target, hyps, _ = rewrite_at(goal, node.rest, push_neg_prop, "push_neg")
    return [Goal(target, hyps, goal.tag)]
