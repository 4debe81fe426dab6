"""The simplifier behind simp, norm_num and simp_all (docs/minilean-lean-facts.md, simp and norm_num).

Like Lean's simp it works bottom-up: the arguments of a node are simplified first, then rewrite rules are tried
at the node and the result is simplified again. Rules are the lemmas and hypotheses the user passes, then (unless
`only`) the lemmas of `lemma_table.py` marked as simp lemmas, then built-in steps that stand for Lean's simprocs
and norm_num extensions: evaluation of closed arithmetic (norm_num: every type; simp: ℕ and ℤ, plus comparisons
of literals), `a ^ b % m` by modular exponentiation, casts pushed to the leaves and compared in the smaller type
(`(↑a : ℝ) = ↑b` becomes `a = b`), notation (`a > b` is `b < a`, `a ≠ b` is `¬a = b`) and propositional logic.

A conditional rule fires only when its hypotheses simplify to True or are assumptions. A rule whose two sides
are the same up to the order of its variables (commutativity) fires only when it makes the term smaller in a
fixed order, as Lean's simp does, so it cannot loop. Every step replaces a term by an equal one (or a
proposition by an equivalent one), so simplifying never makes a false goal provable.
"""

from __future__ import annotations

from fractions import Fraction

from .matching import match, same_prop
from .rewriting import NativeRule, RewriteRule
from .semantics import MAX_BITS, NotEvaluable, compare, decide_value, emod, evaluate
from .terms import (
    FALSE,
    INT,
    NAT,
    TRUE,
    TYPE_RANK,
    Cmp,
    Conn,
    Const,
    Imp,
    Num,
    Op,
    Pred,
    Quant,
    Term,
    Var,
    free_vars,
    num,
    rebuild,
)

_FLIP = {">": "<", "≥": "≤"}
_NEGATE = {"<": "≤", "≤": "<"}
MAX_STEPS = 1500
MAX_SIZE = 300  # a rewrite that would grow a term past this many nodes is refused (distributing lemmas loop)
MAX_EXPANSION = 3000  # expanding a big operator term by term may go further
_DEFAULT_NATIVE: list = []


def head(t: Term) -> tuple:
    if isinstance(t, Op):
        return ("op", t.op)
    if isinstance(t, Cmp):
        return ("cmp", _FLIP.get(t.op, t.op))
    if isinstance(t, Conn):
        return ("conn", t.op)
    return (type(t).__name__,)


def _shape(t: Term, patvars: frozenset[int]) -> str:
    if isinstance(t, Var) and t.fid in patvars:
        return "_"
    kids = t.children()
    return f"{head(t)}({','.join(_shape(k, patvars) for k in kids)})" if kids else repr(t)


def is_permutation(rule: RewriteRule) -> bool:
    """`a * b = b * a`, `a * (b * c) = b * (a * c)`: the two sides differ only in where the variables sit."""
    return rule.lhs != rule.rhs and _shape(rule.lhs, rule.patvars) == _shape(rule.rhs, rule.patvars)


def _order_key(t: Term) -> tuple[int, str]:
    return (_size(t), repr(t))


def _size(t: Term) -> int:
    return 1 + sum(_size(c) for c in t.children())


def _default_native() -> list:
    from .rewriting import native_rule

    names = ("Finset.sum_range_zero", "Finset.prod_range_zero", "Finset.sum_range_one", "Finset.prod_range_one")
    return [native_rule(n) for n in names]  # simp lemmas in Mathlib's default set


class Simplifier:
    def __init__(self, mode: str, rules: list[RewriteRule] | None = None, facts: list[Term] | None = None,
                 defaults: bool = True):
        self.mode = mode  # "simp" or "norm_num"
        self.rules = list(rules or [])
        if defaults:
            from .simp_set import default_rules

            self.rules += default_rules()
        self.facts = list(facts or [])
        self.defaults = defaults
        self.native = [r for r in self.rules if isinstance(r, NativeRule)]
        self.rules = [r for r in self.rules if not isinstance(r, NativeRule)]
        self._perm = {id(r): is_permutation(r) for r in self.rules}
        self._index: dict[tuple, list[RewriteRule]] = {}
        self._any: list[RewriteRule] = []
        for r in self.rules:
            if isinstance(r.lhs, Var) and r.lhs.fid in r.patvars:
                self._any.append(r)
            else:
                self._index.setdefault(head(r.lhs), []).append(r)
        self.steps = 0

    def run(self, t: Term) -> Term:
        if not _DEFAULT_NATIVE:
            _DEFAULT_NATIVE.extend(_default_native())
        self.steps = 0
        return self._visit(t, 0)

    # ------------------------------------------------------------------------------------------ traversal
    def _visit(self, t: Term, depth: int) -> Term:
        if depth > 40 or self.steps > MAX_STEPS:
            return t
        kids = t.children()
        if kids:
            new_kids = tuple(self._visit(k, depth + 1) for k in kids)
            if new_kids != kids:
                t = rebuild(t, new_kids)
        seen = {t}
        for _ in range(24):
            self.steps += 1
            if self.steps > MAX_STEPS:
                return t
            new = self._step(t, depth)
            if new is None or new == t or new in seen:
                return t
            t = self._visit(new, depth + 1) if new.children() else new
            if t in seen:
                return t
            seen.add(t)
        return t

    def _step(self, t: Term, depth: int) -> Term | None:
        closed = self._evaluate(t)
        if closed is not None:
            return closed
        for rule in self._index.get(head(t), []) + self._any:
            new = self._apply(rule, t, depth)
            if new is not None:
                return new
        for rule in self.native + (_DEFAULT_NATIVE if self.defaults else []):
            new = rule.step(t)
            if new is not None and _size(new) <= MAX_EXPANSION:
                return new
        return self._builtin(t)

    def _apply(self, rule: RewriteRule, t: Term, depth: int) -> Term | None:
        b = match(rule.lhs, t, rule.patvars, dict(rule.bindings))
        if b is None or rule.patvars - set(b):
            return None
        lhs, rhs, side = rule.instance(b)
        if rhs == t or _size(rhs) > MAX_SIZE:
            return None  # a rule that changes nothing here must not hide the next one
        if self._perm[id(rule)] and not _order_key(rhs) < _order_key(lhs):
            return None
        if not all(self._discharge(s, depth) for s in side):
            return None
        return rhs

    def _discharge(self, p: Term, depth: int) -> bool:
        if any(same_prop(p, f) for f in self.facts):
            return True
        if depth > 20:
            return False
        return self._visit(p, depth + 10) == TRUE

    # ------------------------------------------------------------------------------------------ built-ins
    def _evaluate(self, t: Term) -> Term | None:
        """Closed arithmetic (norm_num's core and Lean's ℕ/ℤ simprocs)."""
        if free_vars(t) or isinstance(t, Num | Const):
            return None
        if isinstance(t, Op):
            if not (self.mode == "norm_num" or t.ty in (NAT, INT)):
                return None
            if _is_numeral(t):
                return None
            value = _value(t)
            return None if value is None else num(value, t.ty)
        if isinstance(t, Pred):
            # norm_num's Nat.Prime and parity extensions; plain simp only decides parity by Nat.even_iff-style lemmas
            if self.mode != "norm_num":
                return None
            value = decide_value(t)
            return None if value is None else (TRUE if value else FALSE)
        if isinstance(t, Cmp):
            literal = _is_numeral(t.lhs) and _is_numeral(t.rhs)
            if not (self.mode == "norm_num" or t.lhs.ty in (NAT, INT) or literal):
                return None
            a, b = _value(t.lhs), _value(t.rhs)
            if a is None or b is None:
                return None
            return TRUE if compare(t.op, a, b, t.lhs.ty) else FALSE
        return None

    def _builtin(self, t: Term) -> Term | None:
        if isinstance(t, Op):
            return _push_cast(t) or _arith_identities(t)
        if isinstance(t, Cmp):
            if t.op in _FLIP:
                return Cmp(_FLIP[t.op], t.rhs, t.lhs)
            if t.op == "≠":
                return Conn("not", (Cmp("=", t.lhs, t.rhs),))
            if t.lhs == t.rhs and t.op != "∣":
                return TRUE if t.op in ("=", "≤") else FALSE
            return _lower_casts(t)
        if isinstance(t, Conn):
            return _logic(t)
        if isinstance(t, Imp):
            if t.lhs == TRUE:
                return t.rhs
            if t.lhs == FALSE or t.rhs == TRUE:
                return TRUE
            if t.rhs == FALSE:
                return Conn("not", (t.lhs,))
        if isinstance(t, Quant) and t.body in (TRUE, FALSE):
            return t.body  # ∀ x, True and ∃ x, False (every numeric type is inhabited)
        return None


def _is_numeral(t: Term) -> bool:
    if isinstance(t, Num):
        return True
    if isinstance(t, Op) and t.op == "neg":
        return isinstance(t.args[0], Num) or (isinstance(t.args[0], Op) and t.args[0].op == "/" and
                                               all(isinstance(a, Num) for a in t.args[0].args))
    return isinstance(t, Op) and t.op == "/" and all(isinstance(a, Num) for a in t.args) and \
        t.args[1].value > 1 and _coprime(t)


def _coprime(t: Op) -> bool:
    a, b = (int(x.value) for x in t.args)
    return Fraction(a, b).denominator == b


def _value(t: Term) -> Fraction | None:
    """The exact value, with `a ^ b % m` by modular exponentiation (norm_num's Nat.pow_mod extension)."""
    if isinstance(t, Op) and t.op == "%" and isinstance(t.args[0], Op) and t.args[0].op == "^":
        base, exp, mod = (_value(x) for x in (t.args[0].args[0], t.args[0].args[1], t.args[1]))
        if None not in (base, exp, mod) and base.denominator == 1 and mod != 0 and exp >= 0:
            return Fraction(emod(pow(int(base), int(exp), abs(int(mod))), int(mod)))
    try:
        v = evaluate(t)
    except (NotEvaluable, ZeroDivisionError):
        return None
    if not isinstance(v, Fraction) or v.numerator.bit_length() > MAX_BITS:
        return None
    return v


def _push_cast(t: Op) -> Term | None:
    """Nat.cast_add, Nat.cast_mul, Nat.cast_pow, Nat.cast_ofNat, Int.cast_neg, Int.cast_sub (simp lemmas)."""
    if t.op != "cast":
        return None
    inner = t.args[0]
    if isinstance(inner, Num):
        return Num(inner.value, t.ty, inner.sci)
    if isinstance(inner, Op) and inner.op == "cast":
        return Op("cast", (inner.args[0],), t.ty)
    if isinstance(inner, Op) and (inner.op in ("+", "*", "neg") or (inner.op == "-" and inner.ty != NAT)):
        return Op(inner.op, tuple(Op("cast", (a,), t.ty) for a in inner.args), t.ty)
    if isinstance(inner, Op) and inner.op == "^":
        return Op("^", (Op("cast", (inner.args[0],), t.ty), inner.args[1]), t.ty)
    return None


def _lower_casts(t: Cmp) -> Term | None:
    """`↑a R ↑b` and `↑a R n` become `a R b` and `a R n` in the smaller type (Nat.cast_inj, Nat.cast_le, …)."""
    if t.op not in ("=", "<", "≤"):
        return None
    sources = [x.args[0].ty for x in (t.lhs, t.rhs) if isinstance(x, Op) and x.op == "cast"]
    if not sources or len(set(sources)) != 1:
        return None
    small = sources[0]
    if TYPE_RANK[small] >= TYPE_RANK[t.lhs.ty]:
        return None
    sides = []
    for x in (t.lhs, t.rhs):
        if isinstance(x, Op) and x.op == "cast":
            sides.append(x.args[0])
        elif isinstance(x, Num) and x.value.denominator == 1 and x.sci is None:
            sides.append(Num(x.value, small))
        else:
            return None
    return Cmp(t.op, sides[0], sides[1])


def _is_num(t: Term, v: int) -> bool:
    return isinstance(t, Num) and t.value == v and t.sci is None


def _arith_identities(t: Op) -> Term | None:
    a = t.args
    if t.op == "/" and _is_num(a[1], 1):
        return a[0]
    if t.op == "/" and _is_num(a[0], 0):
        return a[0]
    if t.op == "neg" and isinstance(a[0], Op) and a[0].op == "neg":
        return a[0].args[0]
    if t.op == "^" and _is_num(a[1], 1):
        return a[0]
    return None


def _logic(t: Conn) -> Term | None:
    a = t.args
    if t.op == "not":
        x = a[0]
        if isinstance(x, Const):
            return Const(not x.value)
        if isinstance(x, Conn) and x.op == "not":
            return x.args[0]
        if isinstance(x, Cmp) and x.op in _NEGATE:
            return Cmp(_NEGATE[x.op], x.rhs, x.lhs)
        return None
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
        if x == FALSE:
            return Conn("not", (y,))
        if y == FALSE:
            return Conn("not", (x,))
    return None


__all__ = ["Simplifier", "is_permutation", "emod"]
