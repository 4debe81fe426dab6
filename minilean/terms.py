"""Typed terms of the minilean fragment and their Lean-style pretty printer.

Terms are immutable. Variables are identified by a unique id (`fid`), not by name, so that a shadowed
hypothesis keeps meaning the same thing; the printer maps ids to display names (`x✝` for shadowed ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

NAT, INT, RAT, REAL, PROP = "ℕ", "ℤ", "ℚ", "ℝ", "Prop"
NUMERIC_TYPES = (NAT, INT, RAT, REAL)
# Coercions only go upward along this chain (docs/minilean-lean-facts.md, elaboration).
TYPE_RANK = {NAT: 0, INT: 1, RAT: 2, REAL: 3}
TYPE_ALIASES = {"ℕ": NAT, "Nat": NAT, "ℤ": INT, "Int": INT, "ℚ": RAT, "Rat": RAT, "ℝ": REAL, "Real": REAL,
                "Prop": PROP}

RELATIONS = ("=", "≠", "<", "≤", ">", "≥")


class Term:
    """Base class of all terms; `ty` is a numeric type name or PROP."""

    ty: str

    def children(self) -> tuple[Term, ...]:
        return ()


@dataclass(frozen=True)
class Num(Term):
    """A non-negative numeral; `sci` keeps the source text of a decimal literal such as 1.5."""

    value: Fraction
    ty: str
    sci: str | None = None


@dataclass(frozen=True)
class Var(Term):
    fid: int
    name: str = field(compare=False)  # display only: a variable is its id
    ty: str


@dataclass(frozen=True)
class Op(Term):
    """Arithmetic: + - * / % ^ neg abs sqrt min max cast natAbs toNat (cast: from args[0].ty to ty)."""

    op: str
    args: tuple[Term, ...]
    ty: str

    def children(self) -> tuple[Term, ...]:
        return self.args


@dataclass(frozen=True)
class Cmp(Term):
    """A relation = ≠ < ≤ > ≥ or ∣ between two terms of the same numeric type (or = between props)."""

    op: str
    lhs: Term
    rhs: Term
    ty: str = PROP

    def children(self) -> tuple[Term, ...]:
        return (self.lhs, self.rhs)


@dataclass(frozen=True)
class Conn(Term):
    """Connectives: and, or, iff (two args), not (one arg)."""

    op: str
    args: tuple[Term, ...]
    ty: str = PROP

    def children(self) -> tuple[Term, ...]:
        return self.args


@dataclass(frozen=True)
class Imp(Term):
    """`A → B`; `name` is the binder name Lean keeps for `∀ (h : A), B` (`a` for a plain arrow)."""

    lhs: Term
    rhs: Term
    name: str = "a"
    ty: str = PROP

    def children(self) -> tuple[Term, ...]:
        return (self.lhs, self.rhs)


@dataclass(frozen=True)
class Quant(Term):
    """`∀ (x : T), body` or `∃ x, body` over a numeric type or Prop; the bound variable is `Var(fid, name, T)`."""

    q: str
    fid: int
    name: str
    var_ty: str
    body: Term
    ty: str = PROP

    def children(self) -> tuple[Term, ...]:
        return (self.body,)

    @property
    def var(self) -> Var:
        return Var(self.fid, self.name, self.var_ty)


@dataclass(frozen=True)
class App(Term):
    """`f x y`: a function variable (type `ℝ → ℝ`, `ℕ → ℕ → ℝ`, …) applied to arguments of its domain types."""

    fn: Var
    args: tuple[Term, ...]
    ty: str

    def children(self) -> tuple[Term, ...]:
        return self.args


@dataclass(frozen=True)
class Pred(Term):
    """A decidable predicate on numbers: `Nat.Prime p`, `Even n`, `Odd n`."""

    name: str
    args: tuple[Term, ...]
    ty: str = PROP

    def children(self) -> tuple[Term, ...]:
        return self.args


@dataclass(frozen=True)
class BigOp(Term):
    """`∑ k ∈ Finset.range n, body` / `∏ k ∈ Finset.Icc a b, body`; the bound variable is `Var(fid, name, var_ty)`
    with a canonical id (by nesting depth) so that equal sums written twice are the same term."""

    op: str  # "∑" or "∏"
    fid: int
    name: str
    var_ty: str
    kind: str  # range, Icc, Ico, Ioc, Ioo
    lo: Term  # 0 for range
    hi: Term
    body: Term
    ty: str

    def children(self) -> tuple[Term, ...]:
        return (self.lo, self.hi, self.body)

    @property
    def var(self) -> Var:
        return Var(self.fid, self.name, self.var_ty)

    def indices(self, lo: int, hi: int) -> range:
        """The index values of the set, given the values of its bounds."""
        if self.kind == "range":
            return range(0, max(0, hi))
        start = lo if self.kind in ("Icc", "Ico") else lo + 1
        stop = hi + 1 if self.kind in ("Icc", "Ioc") else hi
        return range(start, max(start, stop))


def function_type(ty: str) -> tuple[list[str], str] | None:
    """`ℕ → ℕ → ℝ` as ([ℕ, ℕ], ℝ); None for a plain type."""
    parts = [p.strip() for p in ty.split("→")]
    if len(parts) < 2:
        return None
    return parts[:-1], parts[-1]


@dataclass(frozen=True)
class Const(Term):
    """True or False."""

    value: bool
    ty: str = PROP


TRUE, FALSE = Const(True), Const(False)


def num(value: int | Fraction, ty: str) -> Term:
    """The numeral Lean normalises a value to: `n`, `-n`, `a / b` or `-(a / b)` printed as `-a / b`."""
    value = Fraction(value)
    if value < 0:
        return Op("neg", (num(-value, ty),), ty)
    if value.denominator == 1:
        return Num(value, ty)
    return Op("/", (Num(Fraction(value.numerator), ty), Num(Fraction(value.denominator), ty)), ty)


def cast(term: Term, ty: str) -> Term:
    return term if term.ty == ty else Op("cast", (term,), ty)


def walk(term: Term) -> Iterator[Term]:
    yield term
    for child in term.children():
        yield from walk(child)


def free_vars(term: Term) -> set[int]:
    if isinstance(term, Var):
        return {term.fid}
    if isinstance(term, Quant):
        return free_vars(term.body) - {term.fid}
    if isinstance(term, BigOp):
        return free_vars(term.lo) | free_vars(term.hi) | (free_vars(term.body) - {term.fid})
    if isinstance(term, App):
        return {term.fn.fid}.union(*(free_vars(a) for a in term.args))
    out: set[int] = set()
    for child in term.children():
        out |= free_vars(child)
    return out


def rebuild(term: Term, children: tuple[Term, ...]) -> Term:
    if isinstance(term, Op):
        return Op(term.op, children, term.ty)
    if isinstance(term, Cmp):
        return Cmp(term.op, children[0], children[1])
    if isinstance(term, Conn):
        return Conn(term.op, children)
    if isinstance(term, Imp):
        return Imp(children[0], children[1], term.name)
    if isinstance(term, Quant):
        return Quant(term.q, term.fid, term.name, term.var_ty, children[0])
    if isinstance(term, App):
        return App(term.fn, children, term.ty)
    if isinstance(term, Pred):
        return Pred(term.name, children)
    if isinstance(term, BigOp):
        return BigOp(term.op, term.fid, term.name, term.var_ty, term.kind, children[0], children[1], children[2],
                     term.ty)
    return term


def transform(term: Term, fn: Callable[[Term], Term | None]) -> Term:
    """Bottom-up rewrite: `fn` returns a replacement or None to keep the node (after rewriting children)."""
    kids = term.children()
    if kids:
        new_kids = tuple(transform(k, fn) for k in kids)
        if new_kids != kids:
            term = rebuild(term, new_kids)
    replaced = fn(term)
    return term if replaced is None else replaced


def substitute(term: Term, mapping: dict[int, Term]) -> Term:
    """Replace free variables by terms (no capture: bound ids are unique across the process)."""
    if isinstance(term, Var):
        return mapping.get(term.fid, term)
    if isinstance(term, Quant):
        inner = {k: v for k, v in mapping.items() if k != term.fid}
        return Quant(term.q, term.fid, term.name, term.var_ty, substitute(term.body, inner))
    if isinstance(term, BigOp):
        inner = {k: v for k, v in mapping.items() if k != term.fid}
        return BigOp(term.op, term.fid, term.name, term.var_ty, term.kind, substitute(term.lo, mapping),
                     substitute(term.hi, mapping), substitute(term.body, inner), term.ty)
    if isinstance(term, App):
        fn = mapping.get(term.fn.fid, term.fn)
        return App(fn if isinstance(fn, Var) else term.fn, tuple(substitute(a, mapping) for a in term.args), term.ty)
    kids = term.children()
    if not kids:
        return term
    return rebuild(term, tuple(substitute(k, mapping) for k in kids))


def replace_subterm(term: Term, old: Term, new: Term) -> Term:
    if term == old:
        return new
    kids = term.children()
    if not kids:
        return term
    new_kids = tuple(replace_subterm(k, old, new) for k in kids)
    return term if new_kids == kids else rebuild(term, new_kids)


def ill_typed(term: Term) -> Term | None:
    """The first subterm whose arguments do not have the types its operator needs, or None.

    Tactics build terms from parts; this is the guard that a bug there (say, `x * y` with x : ℕ and y : ℝ) is
    caught before a solver reads the term with a wrong meaning.
    """
    if isinstance(term, Op):
        a = term.args
        if term.op == "cast":
            ok = TYPE_RANK.get(a[0].ty, 9) < TYPE_RANK.get(term.ty, -1)
        elif term.op == "^":
            ok = a[0].ty == term.ty and a[1].ty == NAT
        elif term.op in ("natAbs", "toNat"):
            ok = a[0].ty == INT and term.ty == NAT
        elif term.op == "sqrt":
            ok = a[0].ty == REAL and term.ty == REAL
        elif term.op in ("gcd", "lcm", "factorial"):
            ok = term.ty == NAT and all(x.ty == NAT for x in a)
        elif term.op in ("floor", "ceil"):
            ok = term.ty == INT and a[0].ty in (RAT, REAL)
        elif term.op == "zpow":
            ok = a[0].ty == term.ty and a[1].ty == INT and term.ty in (RAT, REAL)
        elif term.op in ("rpow", "log", "exp", "sin", "cos", "tan", "logb", "pi"):
            ok = term.ty == REAL and all(x.ty == REAL for x in a)
        else:
            ok = all(x.ty == term.ty for x in a) and term.ty in NUMERIC_TYPES
        if not ok:
            return term
    elif isinstance(term, Cmp):
        if term.lhs.ty != term.rhs.ty or (term.op != "=" and term.lhs.ty not in NUMERIC_TYPES):
            return term
    elif isinstance(term, Conn | Imp) and any(c.ty != PROP for c in term.children()):
        return term
    elif isinstance(term, Quant) and term.body.ty != PROP:
        return term
    elif isinstance(term, App):
        sig = function_type(term.fn.ty)
        if sig is None or len(sig[0]) != len(term.args) or sig[1] != term.ty or \
                any(x.ty != d for x, d in zip(term.args, sig[0], strict=True)):
            return term
    elif isinstance(term, BigOp):
        if term.lo.ty != term.var_ty or term.hi.ty != term.var_ty or term.body.ty != term.ty:
            return term
    for child in term.children():
        bad = ill_typed(child)
        if bad is not None:
            return bad
    return None


def conjuncts(term: Term) -> list[Term]:
    if isinstance(term, Conn) and term.op == "and":
        return conjuncts(term.args[0]) + conjuncts(term.args[1])
    return [term]


# ---------------------------------------------------------------------------------------------- printing

_BINARY = {"+": (65, "left"), "-": (65, "left"), "*": (70, "left"), "/": (70, "left"), "%": (70, "left"),
           "^": (75, "right")}
_MAX = 1024


def pretty(term: Term, names: dict[int, str] | None = None) -> str:
    """Print a term as Lean 4 + Mathlib's delaborator does (docs/minilean-lean-facts.md, printing)."""
    return _pp(term, 0, names or {}, True)


def _paren(text: str, own: int, needed: int) -> str:
    return f"({text})" if own < needed else text


def _pp(t: Term, prec: int, names: dict[int, str], tail: bool = False) -> str:
    """`tail`: nothing follows this term, so a trailing quantifier needs no parentheses (as in Lean)."""
    if isinstance(t, Num):
        return t.sci if t.sci is not None else str(t.value.numerator)
    if isinstance(t, Var):
        return names.get(t.fid, t.name)
    if isinstance(t, Const):
        return "True" if t.value else "False"
    if isinstance(t, Op):
        return _pp_op(t, prec, names)
    if isinstance(t, Cmp):
        text = f"{_pp(t.lhs, 51, names)} {t.op} {_pp(t.rhs, 51, names)}"
        return _paren(text, 50, prec)
    if isinstance(t, Conn):
        if t.op == "not":
            inner_tail = tail or prec > 40
            return _paren("¬" + _pp(t.args[0], 40, names, inner_tail), 40, prec)
        sym, level = {"and": ("∧", 35), "or": ("∨", 30), "iff": ("↔", 20)}[t.op]
        right_prec = level if t.op != "iff" else level + 1
        inner_tail = tail or prec > level
        text = f"{_pp(t.args[0], level + 1, names)} {sym} {_pp(t.args[1], right_prec, names, inner_tail)}"
        return _paren(text, level, prec)
    if isinstance(t, Imp):
        inner_tail = tail or prec > 25
        text = f"{_pp(t.lhs, 26, names)} → {_pp(t.rhs, 25, names, inner_tail)}"
        return _paren(text, 25, prec)
    if isinstance(t, Quant):
        text = _pp_quant(t, names)
        return text if tail or prec == 0 else f"({text})"
    if isinstance(t, App):
        return _paren(" ".join([names.get(t.fn.fid, t.fn.name)] + [_pp(a, _MAX, names) for a in t.args]),
                      _MAX - 1, prec)
    if isinstance(t, Pred):
        return _paren(" ".join([t.name] + [_pp(a, _MAX, names) for a in t.args]), _MAX - 1, prec)
    if isinstance(t, BigOp):
        if t.kind == "range":
            where = f"Finset.range {_pp(t.hi, _MAX, names)}"
        else:
            where = f"Finset.{t.kind} {_pp(t.lo, _MAX, names)} {_pp(t.hi, _MAX, names)}"
        return _paren(f"{t.op} {t.name} ∈ {where}, {_pp(t.body, 67, names)}", 67, prec)
    raise TypeError(f"cannot print {t!r}")


def _pp_op(t: Op, prec: int, names: dict[int, str]) -> str:
    a = t.args
    if t.op in _BINARY:
        level, assoc = _BINARY[t.op]
        lp, rp = (level, level + 1) if assoc == "left" else (level + 1, level)
        return _paren(f"{_pp(a[0], lp, names)} {t.op} {_pp(a[1], rp, names)}", level, prec)
    if t.op == "neg":
        return _paren("-" + _pp(a[0], 75, names), 75, prec)
    if t.op == "cast":
        return _paren("↑" + _pp(a[0], _MAX, names), _MAX, prec)
    if t.op == "sqrt":
        return _paren("√" + _pp(a[0], _MAX, names), _MAX, prec)
    if t.op == "abs":
        return "|" + _pp(a[0], 0, names) + "|"
    if t.op in ("min", "max"):
        return _paren(f"{t.op} {_pp(a[0], _MAX, names)} {_pp(a[1], _MAX, names)}", _MAX - 1, prec)
    if t.op in ("natAbs", "toNat"):
        # generalized field notation: Int.natAbs x prints as x.natAbs
        return _paren(f"{_pp(a[0], _MAX, names)}.{t.op}", _MAX, prec)
    if t.op in ("gcd", "lcm"):
        if isinstance(a[0], Num):
            return _paren(f"Nat.{t.op} {_pp(a[0], _MAX, names)} {_pp(a[1], _MAX, names)}", _MAX - 1, prec)
        return _paren(f"{_pp(a[0], _MAX, names)}.{t.op} {_pp(a[1], _MAX, names)}", _MAX - 1, prec)
    if t.op == "factorial":
        return _paren(f"{_pp(a[0], _MAX, names)} !", 10000, prec)
    if t.op == "pi":
        return "π"
    if t.op in _REAL_FUNCTIONS:
        return _paren(" ".join([_REAL_FUNCTIONS[t.op]] + [_pp(x, _MAX, names) for x in a]), _MAX - 1, prec)
    if t.op in ("floor", "ceil"):
        left, right = ("⌊", "⌋") if t.op == "floor" else ("⌈", "⌉")
        return f"{left}{_pp(a[0], 0, names)}{right}"
    if t.op in ("rpow", "zpow"):
        return _paren(f"{_pp(a[0], 76, names)} ^ {_pp(a[1], 75, names)}", 75, prec)
    raise TypeError(f"cannot print operator {t.op}")


_REAL_FUNCTIONS = {"log": "Real.log", "exp": "Real.exp", "sin": "Real.sin", "cos": "Real.cos", "tan": "Real.tan",
                   "logb": "Real.logb"}


def _pp_quant(t: Quant, names: dict[int, str]) -> str:
    if t.q == "∃":
        bound = [t.name]
        body = t.body
        while isinstance(body, Quant) and body.q == "∃":
            bound.append(body.name)
            body = body.body
        return f"∃ {' '.join(bound)}, {_pp(body, 0, names, True)}"
    groups: list[tuple[list[str], str]] = [([t.name], t.var_ty)]
    body = t.body
    while isinstance(body, Quant) and body.q == "∀":
        if body.var_ty == groups[-1][1]:
            groups[-1][0].append(body.name)
        else:
            groups.append(([body.name], body.var_ty))
        body = body.body
    binders = " ".join(f"({' '.join(ns)} : {ty})" for ns, ty in groups)
    return f"∀ {binders}, {_pp(body, 0, names, True)}"
