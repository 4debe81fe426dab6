"""Matching terms against patterns, modulo the notations Lean unfolds reducibly.

`a > b` is notation for `b < a` and `a ≠ b` for `¬a = b`, so propositions are compared after `normal_rel`.
A pattern is a term whose pattern variables (a set of variable ids: the parameters of a Mathlib lemma) may
stand for any term of their type; `match` extends a binding so that the instantiated pattern is the term.
Numeral offsets unify as Lean's `Nat` literals do: `?n + 1` matches `3` with `?n := 2`.
"""

from __future__ import annotations

from fractions import Fraction

from .terms import NAT, PROP, App, BigOp, Cmp, Conn, Const, Imp, Num, Op, Pred, Quant, Term, Var, substitute

_FLIP = {">": "<", "≥": "≤"}


def normal_rel(p: Term) -> Term:
    """`a > b` as `b < a`, `a ≠ b` as `¬a = b` (reducibly equal in Lean), recursively through connectives."""
    if isinstance(p, Cmp) and p.op in _FLIP:
        return Cmp(_FLIP[p.op], p.rhs, p.lhs)
    if isinstance(p, Cmp) and p.op == "≠":
        return Conn("not", (Cmp("=", p.lhs, p.rhs),))
    if isinstance(p, Conn):
        return Conn(p.op, tuple(normal_rel(a) for a in p.args))
    if isinstance(p, Imp):
        return Imp(normal_rel(p.lhs), normal_rel(p.rhs), p.name)
    return p


def same_prop(a: Term, b: Term) -> bool:
    return _strip_names(normal_rel(a)) == _strip_names(normal_rel(b))


def _strip_names(p: Term) -> Term:
    """Binder names of `→` do not matter for equality of propositions."""
    if isinstance(p, Imp):
        return Imp(_strip_names(p.lhs), _strip_names(p.rhs))
    if isinstance(p, Conn):
        return Conn(p.op, tuple(_strip_names(a) for a in p.args))
    if isinstance(p, Quant):
        return Quant(p.q, p.fid, p.name, p.var_ty, _strip_names(p.body))
    return p


def match(pattern: Term, term: Term, patvars: frozenset[int], bindings: dict[int, Term]) -> dict[int, Term] | None:
    """A binding extending `bindings` under which `pattern` is `term`, or None."""
    out = dict(bindings)
    return out if _match(pattern, term, patvars, out) else None


def _match(p: Term, t: Term, patvars: frozenset[int], b: dict[int, Term]) -> bool:
    if isinstance(p, Var) and (p.fid in patvars or p.fid in b):
        if p.fid in b:
            bound = b[p.fid]
            return same_prop(bound, t) if p.ty == PROP else bound == t
        if p.ty != t.ty:
            return False
        b[p.fid] = t
        return True
    if p.ty == PROP and not isinstance(p, Const):
        p, t = normal_rel(p), normal_rel(t)
    if isinstance(p, Num):
        return isinstance(t, Num) and t.value == p.value and t.ty == p.ty
    if isinstance(p, Var | Const):
        return p == t
    if isinstance(p, Op):
        if isinstance(t, Op) and t.op == p.op and t.ty == p.ty and len(t.args) == len(p.args):
            saved = dict(b)
            if all(_match(x, y, patvars, b) for x, y in zip(p.args, t.args, strict=True)):
                return True
            b.clear()
            b.update(saved)
        return _match_offset(p, t, patvars, b)
    if isinstance(p, Cmp):
        return isinstance(t, Cmp) and t.op == p.op and _match(p.lhs, t.lhs, patvars, b) and \
            _match(p.rhs, t.rhs, patvars, b)
    if isinstance(p, Conn):
        return isinstance(t, Conn) and t.op == p.op and len(t.args) == len(p.args) and \
            all(_match(x, y, patvars, b) for x, y in zip(p.args, t.args, strict=True))
    if isinstance(p, Imp):
        return isinstance(t, Imp) and _match(p.lhs, t.lhs, patvars, b) and _match(p.rhs, t.rhs, patvars, b)
    if isinstance(p, Quant):
        if not (isinstance(t, Quant) and t.q == p.q and t.var_ty == p.var_ty):
            return False
        body = substitute(t.body, {t.fid: Var(p.fid, p.name, p.var_ty)})
        return _match(p.body, body, patvars, b)
    if isinstance(p, App):
        return isinstance(t, App) and t.fn == p.fn and len(t.args) == len(p.args) and \
            all(_match(x, y, patvars, b) for x, y in zip(p.args, t.args, strict=True))
    if isinstance(p, Pred):
        return isinstance(t, Pred) and t.name == p.name and \
            all(_match(x, y, patvars, b) for x, y in zip(p.args, t.args, strict=True))
    if isinstance(p, BigOp):
        return isinstance(t, BigOp) and (t.op, t.kind, t.var_ty, t.ty) == (p.op, p.kind, p.var_ty, p.ty) and \
            _match(p.lo, t.lo, patvars, b) and _match(p.hi, t.hi, patvars, b) and \
            _match(p.body, substitute(t.body, {t.fid: p.var}), patvars, b)
    return False


def _match_offset(p: Op, t: Term, patvars: frozenset[int], b: dict[int, Term]) -> bool:
    """`?n + k` against the ℕ literal `m ≥ k` (Lean's Nat literal unification)."""
    if p.op != "+" or p.ty != NAT or not isinstance(t, Num) or t.ty != NAT:
        return False
    x, k = p.args
    if not isinstance(k, Num) or t.value < k.value:
        return False
    return _match(x, Num(Fraction(t.value - k.value), NAT), patvars, b)


def instantiate(pattern: Term, bindings: dict[int, Term]) -> Term:
    return substitute(pattern, bindings)


def unify(a: Term, b: Term, variables: frozenset[int], bindings: dict[int, Term]) -> dict[int, Term] | None:
    """First-order unification of two terms whose `variables` may stand for anything of their type, on both
    sides (a lemma argument such as `Nat.zero_le _` against the parameter it must fit). Returns the extended
    binding, fully resolved, or None."""
    out = dict(bindings)
    if not _unify(a, b, variables, out):
        return None
    for _ in range(len(out) + 1):
        resolved = {k: substitute(v, out) for k, v in out.items()}
        if resolved == out:
            break
        out = resolved
    return out


def _resolve(t: Term, variables: frozenset[int], b: dict[int, Term]) -> Term:
    while isinstance(t, Var) and t.fid in variables and t.fid in b:
        t = b[t.fid]
    return t


def _unify(a: Term, b: Term, variables: frozenset[int], s: dict[int, Term]) -> bool:
    a, b = _resolve(a, variables, s), _resolve(b, variables, s)
    if a == b:
        return True
    for x, y in ((a, b), (b, a)):
        if isinstance(x, Var) and x.fid in variables:
            if x.ty != y.ty or x.fid in free_vars_of(substitute(y, s)):
                return False
            s[x.fid] = y
            return True
    if a.ty == PROP:
        a, b = normal_rel(a), normal_rel(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, Num | Var | Const):
        return a == b
    if isinstance(a, Op):
        return a.op == b.op and a.ty == b.ty and len(a.args) == len(b.args) and \
            all(_unify(x, y, variables, s) for x, y in zip(a.args, b.args, strict=True))
    if isinstance(a, Cmp):
        return a.op == b.op and _unify(a.lhs, b.lhs, variables, s) and _unify(a.rhs, b.rhs, variables, s)
    if isinstance(a, Conn):
        return a.op == b.op and len(a.args) == len(b.args) and \
            all(_unify(x, y, variables, s) for x, y in zip(a.args, b.args, strict=True))
    if isinstance(a, Imp):
        return _unify(a.lhs, b.lhs, variables, s) and _unify(a.rhs, b.rhs, variables, s)
    if isinstance(a, App | Pred):
        same_head = a.fn == b.fn if isinstance(a, App) else a.name == b.name
        return same_head and len(a.args) == len(b.args) and \
            all(_unify(x, y, variables, s) for x, y in zip(a.args, b.args, strict=True))
    return False


def free_vars_of(t: Term) -> set[int]:
    from .terms import free_vars

    return free_vars(t)
