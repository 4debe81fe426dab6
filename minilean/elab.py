"""Elaborate untyped syntax into typed terms the way Lean 4 + Mathlib does (docs/minilean-lean-facts.md, elaboration).

- Arithmetic trees (+ - * / % and the base of ^, plus both sides of a relation) are elaborated as a whole,
  like Lean's `binop%`: the leaves' types are collected, the maximal type wins (the expected type counts
  too) and coercions `↑` are inserted at the leaves, never around a whole subterm.
- Bare numerals default to ℕ; a tree with a unary minus and no typed leaf defaults to ℤ.
- `^` takes an ℕ exponent by default (so `x ^ (1/3)` is `x ^ 0`); a real or integer exponent is refused.
- Untyped binders (`∃ x, …`) are typed as Lean types them: a binder's type is a metavariable that the first
  arithmetic tree with a known leaf type fixes; trees of only numerals and unknowns fix nothing (they only tie
  their unknowns together), and numerals default to ℕ only once the whole statement is elaborated. This takes
  two passes: one to find the types, one to build the terms. Anything ambiguous (two types for one binder, a
  unary minus or a decimal deciding the default) is refused. docs/minilean-lean-facts.md (elaboration).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from fractions import Fraction

from .parser import Syn
from .terms import (
    FALSE,
    INT,
    NAT,
    NUMERIC_TYPES,
    PROP,
    RAT,
    REAL,
    TRUE,
    TYPE_ALIASES,
    TYPE_RANK,
    App,
    BigOp,
    Cmp,
    Conn,
    Imp,
    Num,
    Op,
    Pred,
    Quant,
    Term,
    Var,
    cast,
    function_type,
)

_fresh = itertools.count(1000)


def fresh_id() -> int:
    """Process-wide unique id for variables and goals (printed as `_uniq.N`)."""
    return next(_fresh)


class ElabError(Exception):
    """A term that parses but does not elaborate (unknown identifier, type mismatch, unsupported construct)."""

    def __init__(self, message: str, column: int = 0):
        super().__init__(message)
        self.message = message
        self.column = column


_ARITH = ("bin", "neg")
_REAL_RESULT = {"Real.log": "log", "Real.exp": "exp", "Real.sin": "sin", "Real.cos": "cos", "Real.tan": "tan",
                "Real.logb": "logb"}
_NAT_RESULT = {"Nat.gcd": "gcd", "Nat.lcm": "lcm", "Nat.factorial": "factorial"}
_PREDICATES = ("Nat.Prime", "Even", "Odd")
_FINSETS = {"Finset.range": 1, "Finset.Icc": 2, "Finset.Ico": 2, "Finset.Ioc": 2, "Finset.Ioo": 2}
_UNSUPPORTED_FUNCTIONS = {"Finset.range", "Finset.Icc", "Real.rpow", "Nat.digits", "Nat.divisors", "Nat.choose"}


class _Meta:
    """The type metavariable of an untyped binder during the discovery pass."""

    def __init__(self, key: tuple) -> None:
        self.key = key
        self.ty: str | None = None  # fixed by a tree with a known leaf type
        self.fixed: set[str] = set()
        self.parent: _Meta = self
        self.neg = False  # took part in a tree whose default would be decided by a unary minus or a decimal

    def root(self) -> _Meta:
        node = self
        while node.parent is not node:
            node = node.parent
        return node


def _has_untyped_binder(s: object) -> bool:
    if isinstance(s, Syn):
        if s.kind == "quant" and any(ty is None for _, ty, _ in s.args[1]):
            return True
        return _has_untyped_binder(s.args)
    if isinstance(s, tuple | list):
        return any(_has_untyped_binder(x) for x in s)
    return False


class Elaborator:
    """Elaborates syntax in a scope of named variables (numeric or Prop); hypotheses are not terms."""

    def __init__(self, scope: Mapping[str, Var] | None = None):
        self.scope: dict[str, Var] = dict(scope or {})
        self.metas: dict[int, _Meta] = {}
        self.binder_types: dict[tuple, str] = {}  # untyped binder -> type found by the discovery pass
        self.discovering = False
        self._bigops: dict[int, Term] = {}  # big operators elaborated once per syntax node
        self._depth = 0  # nesting of big operators, which gives their bound variables canonical ids
        self._links: list[_Meta] | None = None  # set while building a tree no known type fixes

    # ------------------------------------------------------------------------------------------ props
    def prop(self, s: Syn) -> Term:
        """Elaborate a proposition; untyped binders are typed by a discovery pass over the whole of it first."""
        if self.discovering or not _has_untyped_binder(s):
            return self._prop(s)
        self.discovering = True
        failure: ElabError | None = None
        try:
            self._prop(s)
        except ElabError as exc:
            failure = exc
        finally:
            self.discovering = False
        metas = list(self.metas.values())
        self.metas = {}
        if failure is not None:
            if not metas:
                raise failure
            raise ElabError(f"minilean cannot elaborate the binder types of this statement ({failure.message})",
                            failure.column)
        self.binder_types = _binder_types(metas, s)
        self._bigops = {}  # built with provisional types during discovery
        return self._prop(s)

    def _prop(self, s: Syn) -> Term:
        k = s.kind
        if k == "quant":
            return self._quant(s)
        if k in ("and", "or", "iff"):
            return Conn(k, (self._prop(s.args[0]), self._prop(s.args[1])))
        if k == "implies":
            return Imp(self._prop(s.args[0]), self._prop(s.args[1]))
        if k == "not":
            return Conn("not", (self._prop(s.args[0]),))
        if k == "rel":
            return self._relation(s)
        if k == "ident":
            name = s.args[0]
            if name == "True":
                return TRUE
            if name == "False":
                return FALSE
            var = self.scope.get(name)
            if var is not None and var.ty == PROP:
                return var
            if var is not None:
                raise ElabError(f"type mismatch\n  {name}\nhas type\n  {var.ty} : Type\nbut is expected to have type\n"
                                "  Prop : Type", s.column)
            raise self._unknown(name, s)
        if k == "ascribe":
            inner, ty = s.args
            if self._type_name(ty) != PROP:
                raise ElabError("type expected to be Prop", s.column)
            return self._prop(inner)
        if k == "call" and s.args[0] in _PREDICATES:
            head, args = s.args
            if len(args) != 1:
                raise ElabError(f"{head} takes one argument", s.column)
            arg = self.term(args[0], NAT) if head == "Nat.Prime" else self.term(args[0])
            if arg.ty not in (NAT, INT):
                raise ElabError(f"{head}: expected a natural number or an integer", s.column)
            return Pred(head, (arg,))
        if k == "call" and s.args[0] not in ("abs", "min", "max", "Real.sqrt", "Int.natAbs", "Int.toNat") \
                and s.args[0] not in _REAL_RESULT and s.args[0] not in _NAT_RESULT:
            raise self._unknown(s.args[0], s)
        if k in ("bin", "neg", "nat", "dec", "call", "coe"):
            raise ElabError("type mismatch: a number is not a proposition", s.column)
        raise ElabError(f"unsupported syntax ({k}) in a proposition", s.column)

    def _quant(self, s: Syn) -> Term:
        q, binders, body = s.args
        saved = dict(self.scope)
        layers: list[tuple[str, object]] = []  # ("var", (fid, name, meta-or-type)) or ("hyp", (name, prop))
        try:
            for names, ty_syn, pred in binders:
                ty = None if ty_syn is None else self._binder_type(ty_syn)
                if ty is not None and not isinstance(ty, str):
                    # a hypothesis binder (h : P)
                    if q == "∃":
                        raise ElabError("unsupported: existential over a proof", s.column)
                    prop = ty
                    for name in names:
                        layers.append(("hyp", (name, prop)))
                    continue
                if isinstance(ty, str) and function_type(ty) is not None and q == "∃":
                    raise ElabError("unsupported: an existential over functions", s.column)
                for index, name in enumerate(names):
                    fid = fresh_id()
                    key = (id(binders), id(names), index)
                    if ty is None and not self.discovering:
                        var = Var(fid, name, self.binder_types[key])
                    elif ty is None:
                        self.metas[fid] = _Meta(key)
                        var = Var(fid, name, f"?{fid}")
                    else:
                        var = Var(fid, name, ty)
                    self.scope[name] = var
                    layers.append(("var", var))
                    if pred is not None:
                        op, bound = pred
                        rel = self._relation(Syn("rel", (op, Syn("ident", (name,), s.column), bound), s.column))
                        layers.append(("pred", rel))
            body_term = self._prop(body)
        finally:
            self.scope = saved
        for kind, item in reversed(layers):
            if kind == "hyp":
                name, prop = item
                body_term = Imp(prop, body_term, name)
            elif kind == "pred":
                body_term = Imp(item, body_term) if q == "∀" else Conn("and", (item, body_term))
            else:
                var = item
                body_term = Quant(q, var.fid, var.name, self._resolve(var.ty), body_term)
        return body_term

    def _binder_type(self, s: Syn) -> str | Term:
        if s.kind == "ident" and s.args[0] in TYPE_ALIASES:
            return TYPE_ALIASES[s.args[0]]
        fn = _function_type_syntax(s)
        if fn is not None:
            return fn
        function_type = s.kind == "implies" and any(
            a.kind == "ident" and a.args[0] in TYPE_ALIASES for a in s.args)
        if function_type or (s.kind == "ident" and s.args[0][:1].isupper() and s.args[0] not in self.scope):
            raise ElabError(f"unsupported binder type (only ℕ ℤ ℚ ℝ Prop and propositions): {_show(s)}",
                            s.column)
        return self._prop(s)

    def _type_name(self, s: Syn) -> str:
        if s.kind == "ident" and s.args[0] in TYPE_ALIASES:
            return TYPE_ALIASES[s.args[0]]
        raise ElabError(f"unsupported type {_show(s)} (only ℕ ℤ ℚ ℝ)", s.column)

    def _resolve(self, ty: str) -> str:
        """A binder's type when its quantifier is built (a placeholder during discovery)."""
        return NAT if ty.startswith("?") else ty

    # ------------------------------------------------------------------------------------------ terms
    def _relation(self, s: Syn) -> Term:
        op, lhs, rhs = s.args
        if op in ("=", "≠") and self._is_prop_syntax(lhs):
            a, b = self._prop(lhs), self._prop(rhs)
            eq = Conn("iff", (a, b))
            return eq if op == "=" else Conn("not", (eq,))
        lhs_t, rhs_t = self._tree([lhs, rhs], None, s)
        if op == "∣" and lhs_t.ty in (RAT, REAL):
            raise ElabError("unsupported: divisibility in a field", s.column)
        return Cmp(op, lhs_t, rhs_t)

    def _is_prop_syntax(self, s: Syn) -> bool:
        if s.kind in ("rel", "and", "or", "not", "implies", "iff", "quant"):
            return True
        if s.kind == "ident":
            v = self.scope.get(s.args[0])
            return s.args[0] in ("True", "False") or (v is not None and v.ty == PROP)
        return False

    def term(self, s: Syn, expected: str | None = None) -> Term:
        """Elaborate an arithmetic term, with an optional expected numeric type."""
        return self._tree([s], expected, s)[0]

    def _tree(self, roots: list[Syn], expected: str | None, where: Syn) -> list[Term]:
        leaves: list[Syn] = []
        has_neg = [False]

        def collect(n: Syn) -> None:
            if n.kind == "bin":
                collect(n.args[1])
                if n.args[0] != "^":
                    collect(n.args[2])
            elif n.kind == "neg":
                has_neg[0] = True
                collect(n.args[0])
            else:
                leaves.append(n)

        for r in roots:
            collect(r)
        types = [self._probe(leaf) for leaf in leaves]
        known = [t for t in types if t is not None]
        soft = self._links is not None  # an expected type that only a tree of unknowns passed down fixes nothing
        if expected is not None and not soft:
            known.append(expected)
        if known:
            target = max(known, key=lambda t: TYPE_RANK[t])
            if expected is not None and TYPE_RANK[target] > TYPE_RANK[expected]:
                raise ElabError(f"type mismatch: term of type {target} where {expected} is expected", where.column)
            if soft:
                return self._fixing([r for r in roots], target)
            return [self._build(r, target) for r in roots]
        decimal = any(leaf.kind == "dec" for leaf in leaves)
        target = expected if expected is not None else REAL if decimal else INT if has_neg[0] else NAT
        if self.discovering and not soft:
            return self._linking(roots, target, has_neg[0] or decimal)
        return [self._build(r, target) for r in roots]

    def _linking(self, roots: list[Syn], target: str, decides_default: bool) -> list[Term]:
        """Discovery pass, a tree with no known type: build it provisionally, tying its unknowns together."""
        self._links = []
        try:
            built = [self._build(r, target) for r in roots]
            links = self._links
        finally:
            self._links = None
        if links:
            root = links[0].root()
            for meta in links[1:]:
                other = meta.root()
                if other is not root:
                    other.parent = root
                    root.fixed |= other.fixed
                    root.neg |= other.neg
            root.neg |= decides_default
        return built

    def _fixing(self, roots: list[Syn], target: str) -> list[Term]:
        """Inside a tree of unknowns, a subtree with a known type still fixes its own unknowns (Lean elaborates
        function arguments such as `|x + n|` as trees of their own)."""
        saved, self._links = self._links, None
        try:
            return [self._build(r, target) for r in roots]
        finally:
            self._links = saved

    def _probe(self, s: Syn) -> str | None:
        """The type a leaf has on its own, or None when it adapts to its surroundings (numerals, ↑e)."""
        k = s.kind
        if k in ("nat", "dec", "coe", "hole"):
            return None
        if k == "ident" and s.args[0] == "Real.pi":
            return REAL
        if k == "ident" and self._successor(s) is not None:
            return NAT
        if k == "ident":
            name = s.args[0]
            var = self.scope.get(name)
            if var is None:
                raise self._unknown(name, s)
            if var.ty == PROP:
                raise ElabError(f"type mismatch: {name} is a proposition, a number is expected", s.column)
            if function_type(var.ty) is not None:
                raise ElabError(f"function expected to be applied: {name}", s.column)
            ty = self._resolve_known(var.ty)
            return ty
        if k == "ascribe":
            return self._type_name(s.args[1])
        if k == "bigop":
            return self._big_operator(s).ty
        if k == "call" and self._method(s.args[0], s) is not None:
            return self._probe(self._method(s.args[0], s))
        if k == "call":
            head, args = s.args
            var = self.scope.get(head)
            if var is not None and function_type(var.ty) is not None:
                return function_type(var.ty)[1]
            if head in _REAL_RESULT:
                return REAL
            if head in _NAT_RESULT:
                return NAT
            if head in ("Int.floor", "Int.ceil"):
                return INT
            if head in ("Real.sqrt",):
                return REAL
            if head in ("Int.natAbs", "Int.toNat"):
                return NAT
            if head in ("abs", "min", "max"):
                inner = [self._probe_tree(a) for a in args]
                inner = [t for t in inner if t is not None]
                return max(inner, key=lambda t: TYPE_RANK[t]) if inner else None
            return None
        if k in ("bin", "neg"):
            return self._probe_tree(s)
        return None

    def _probe_tree(self, s: Syn) -> str | None:
        if s.kind == "bin":
            found = [self._probe_tree(s.args[1])]
            if s.args[0] != "^":
                found.append(self._probe_tree(s.args[2]))
            found = [t for t in found if t is not None]
            return max(found, key=lambda t: TYPE_RANK[t]) if found else None
        if s.kind == "neg":
            return self._probe_tree(s.args[0])
        return self._probe(s)

    def _resolve_known(self, ty: str) -> str | None:
        if ty.startswith("?"):
            meta = self.metas.get(int(ty[1:]))
            return None if meta is None else meta.ty
        return ty

    def _build(self, s: Syn, ty: str) -> Term:
        k = s.kind
        if k == "bin":
            op, a, b = s.args
            if op == "^":
                base = self._build(a, ty)
                exponent = self._exponent(b, ty)
                if exponent.ty == REAL:
                    return Op("rpow", (base, exponent), ty)
                if exponent.ty == INT:
                    return Op("zpow", (base, exponent), ty)
                return Op("^", (base, exponent), ty)
            if op == "%" and ty in (RAT, REAL):
                raise ElabError(f"failed to synthesize\n  HMod {ty} {ty} ?m", s.column)
            return Op(op, (self._build(a, ty), self._build(b, ty)), ty)
        if k == "neg":
            if ty == NAT:
                raise ElabError("failed to synthesize\n  Neg ℕ", s.column)
            return Op("neg", (self._build(s.args[0], ty),), ty)
        return self._leaf(s, ty)

    def _exponent(self, s: Syn, base_ty: str) -> Term:
        """ℕ exponents are Monoid.npow; a real exponent on a real base is Real.rpow, an integer one on ℚ or ℝ is
        zpow (docs/minilean-lean-facts.md, powers)."""
        exponent = self.term(s)
        if exponent.ty == NAT or (exponent.ty == REAL and base_ty == REAL) or \
                (exponent.ty == INT and base_ty in (RAT, REAL)):
            return exponent
        raise ElabError(f"unsupported: exponent of type {exponent.ty} on a base of type {base_ty}", s.column)

    def _method(self, head: str, s: Syn) -> Syn | None:
        """Generalized field notation on a variable: `n.gcd 40` is `Nat.gcd n 40`, `z.natAbs` is `Int.natAbs z`."""
        base, _, fld = head.rpartition(".")
        var = self.scope.get(base)
        if var is None:
            return None
        names = {"gcd": "Nat.gcd", "lcm": "Nat.lcm", "factorial": "Nat.factorial", "natAbs": "Int.natAbs",
                 "toNat": "Int.toNat"}
        if fld not in names:
            return None
        return Syn("call", (names[fld], (Syn("ident", (base,), s.column),) + tuple(s.args[1])), s.column)

    def _successor(self, s: Syn) -> Var | None:
        """`k.succ` for a natural-number variable k (read as k + 1, its simp normal form)."""
        base, _, fld = s.args[0].rpartition(".")
        var = self.scope.get(base)
        if fld == "succ" and var is not None and self._resolve_known(var.ty) == NAT:
            return var
        return None

    def _big_operator(self, s: Syn) -> Term:
        """`∑ k ∈ Finset.range n, body` or over `Finset.Icc a b` (Ico, Ioc, Ioo): elaborated once, as a leaf whose
        body is its own tree (Lean elaborates `Finset.sum s fun k => body` with no expected type)."""
        cached = self._bigops.get(id(s))
        if cached is not None:
            return cached
        op, name, where, body = s.args
        if where.kind != "call" or where.args[0] not in _FINSETS or len(where.args[1]) != _FINSETS[where.args[0]]:
            raise ElabError("unsupported: a big operator over anything but Finset.range n, Finset.Icc a b, "
                            "Finset.Ico, Finset.Ioc, Finset.Ioo", s.column)
        kind = where.args[0].split(".")[1]
        if kind == "range":
            hi = self.term(where.args[1][0], NAT)
            lo = Num(Fraction(0), NAT)
        else:
            lo, hi = self._tree(list(where.args[1]), None, where)
        if lo.ty not in (NAT, INT):
            raise ElabError("unsupported: a big operator over a set of non-integers", s.column)
        fid = -1000 - self._depth
        saved = dict(self.scope)
        self.scope[name] = Var(fid, name, lo.ty)
        self._depth += 1
        try:
            inner = self.term(body)
        finally:
            self._depth -= 1
            self.scope = saved
        out = BigOp(op, fid, name, lo.ty, kind, lo, hi, inner, inner.ty)
        self._bigops[id(s)] = out
        return out

    def _leaf(self, s: Syn, ty: str) -> Term:
        k = s.kind
        if k == "bigop":
            return self._coerce(self._big_operator(s), ty, s)
        if k == "ident" and s.args[0] == "Real.pi":
            return self._coerce(Op("pi", (), REAL), ty, s)
        if k == "ident" and self._successor(s) is not None:
            var = self._successor(s)
            return self._coerce(Op("+", (Var(var.fid, var.name, NAT), Num(Fraction(1), NAT)), NAT), ty, s)
        if k == "nat":
            return Num(Fraction(s.args[0]), ty)
        if k == "dec":
            if ty not in (RAT, REAL):
                raise ElabError(f"failed to synthesize\n  OfScientific {ty}", s.column)
            return Num(Fraction(s.args[0]), ty, sci=s.args[0])
        if k == "ident":
            var = self.scope[s.args[0]]
            own = self._resolve_known(var.ty)
            if own is None:
                meta = self.metas[int(var.ty[1:])]
                if self._links is not None:
                    self._links.append(meta)
                else:
                    meta.ty = ty
                    meta.root().fixed.add(ty)
                return Var(var.fid, var.name, ty)
            var = Var(var.fid, var.name, own)
            return self._coerce(var, ty, s)
        if k == "ascribe":
            inner_ty = self._type_name(s.args[1])
            inner = self.term(s.args[0], inner_ty)
            return self._coerce(inner, ty, s)
        if k == "coe":
            inner = self.term(s.args[0])
            if TYPE_RANK[inner.ty] > TYPE_RANK[ty]:
                raise ElabError(f"type mismatch: cannot coerce {inner.ty} to {ty}", s.column)
            return cast(inner, ty)
        if k == "call":
            return self._call(s, ty)
        if k in ("bin", "neg"):
            return self._build(s, ty)
        if k == "hole":
            raise ElabError("don't know how to synthesize placeholder", s.column)
        raise ElabError(f"unsupported syntax ({k}) in an arithmetic term", s.column)

    def _coerce(self, term: Term, ty: str, s: Syn) -> Term:
        if term.ty == ty:
            return term
        if TYPE_RANK[term.ty] > TYPE_RANK[ty]:
            raise ElabError(f"type mismatch\n  {_show(s)}\nhas type {term.ty} but is expected to have type {ty}",
                            s.column)
        return cast(term, ty)

    def _call(self, s: Syn, ty: str) -> Term:
        head, args = s.args
        dotted = self._method(head, s)
        if dotted is not None:
            return self._call(dotted, ty)
        if head == "Real.sqrt":
            if len(args) != 1:
                raise ElabError("Real.sqrt takes one argument", s.column)
            return self._coerce(Op("sqrt", (self.term(args[0], REAL),), REAL), ty, s)
        if head == "abs":
            if len(args) != 1:
                raise ElabError("abs takes one argument", s.column)
            if ty == NAT:
                raise ElabError("failed to synthesize\n  Lattice ℕ", s.column)
            return Op("abs", (self.term(args[0], ty),), ty)
        if head in ("min", "max"):
            if len(args) != 2:
                raise ElabError(f"{head} takes two arguments", s.column)
            a, b = self._tree([args[0], args[1]], ty, s)
            return Op(head, (a, b), ty)
        if head in ("Int.natAbs", "Int.toNat"):
            if len(args) != 1:
                raise ElabError(f"{head} takes one argument", s.column)
            inner = self.term(args[0], INT)
            return self._coerce(Op(head.split(".")[1], (inner,), NAT), ty, s)
        var = self.scope.get(head)
        if var is not None and function_type(var.ty) is not None:
            domains, codomain = function_type(var.ty)
            if len(args) != len(domains):
                raise ElabError(f"{head} takes {len(domains)} argument(s)", s.column)
            applied = App(Var(var.fid, var.name, var.ty), tuple(self.term(a, d) for a, d in zip(args, domains,
                                                                                              strict=True)),
                          codomain)
            return self._coerce(applied, ty, s)
        if head in _NAT_RESULT:
            arity = 1 if head == "Nat.factorial" else 2
            if len(args) != arity:
                raise ElabError(f"{head} takes {arity} argument(s)", s.column)
            return self._coerce(Op(_NAT_RESULT[head], tuple(self.term(a, NAT) for a in args), NAT), ty, s)
        if head in _REAL_RESULT:
            arity = 2 if head == "Real.logb" else 1
            if len(args) != arity:
                raise ElabError(f"{head} takes {arity} argument(s)", s.column)
            return self._coerce(Op(_REAL_RESULT[head], tuple(self.term(a, REAL) for a in args), REAL), ty, s)
        if head in ("Int.floor", "Int.ceil"):
            if len(args) != 1:
                raise ElabError(f"{head} takes one argument", s.column)
            inner = self.term(args[0])
            if inner.ty not in (RAT, REAL):
                inner = cast(inner, REAL) if inner.ty in (NAT, INT) else inner
            return self._coerce(Op("floor" if head == "Int.floor" else "ceil", (inner,), INT), ty, s)
        if head in self.scope:
            raise ElabError(f"function expected\n  {head}", s.column)
        raise self._unknown(head, s)

    def _unknown(self, name: str, s: Syn) -> ElabError:
        if name in ("π", "sqrt"):
            return ElabError(f"ambiguous, possible interpretations for {name} (unsupported in minilean)", s.column)
        if name in _UNSUPPORTED_FUNCTIONS:
            return ElabError(f"unsupported function '{name}' (outside the minilean fragment)", s.column)
        return ElabError(f"unknown identifier '{name}'", s.column)


def _binder_types(metas: list[_Meta], where: Syn) -> dict[tuple, str]:
    """The type of every untyped binder, once the whole statement has been seen (numerals default last)."""
    out: dict[tuple, str] = {}
    for meta in metas:
        root = meta.root()
        fixed = root.fixed | ({meta.ty} if meta.ty else set())
        if len(fixed) > 1:
            raise ElabError("type mismatch: an untyped binder would need two types "
                            f"({' and '.join(sorted(fixed))}); minilean refuses the statement", where.column)
        if fixed:
            out[meta.key] = fixed.pop()
        elif root.neg:
            raise ElabError("minilean cannot tell the type of an untyped binder whose default would come from a "
                            "unary minus or a decimal literal; write the type", where.column)
        else:
            out[meta.key] = NAT
    return out


def _function_type_syntax(s: Syn) -> str | None:
    """`ℝ → ℝ`, `ℕ → ℕ → ℝ` as a type name, or None when `s` is not a function type over ℕ ℤ ℚ ℝ."""
    if s.kind != "implies":
        return None
    parts = []
    node = s
    while node.kind == "implies":
        dom = node.args[0]
        if dom.kind != "ident" or TYPE_ALIASES.get(dom.args[0]) not in NUMERIC_TYPES:
            return None
        parts.append(TYPE_ALIASES[dom.args[0]])
        node = node.args[1]
    if node.kind != "ident" or TYPE_ALIASES.get(node.args[0]) not in NUMERIC_TYPES:
        return None
    return " → ".join(parts + [TYPE_ALIASES[node.args[0]]])


def _show(s: Syn) -> str:
    if s.kind == "ident":
        return s.args[0]
    if s.kind == "nat":
        return str(s.args[0])
    if s.kind == "implies":
        return f"{_show(s.args[0])} → {_show(s.args[1])}"
    return s.kind


def elaborate_prop(text_or_syn: str | Syn, scope: Mapping[str, Var] | None = None) -> Term:
    """Parse (if given text) and elaborate a proposition in a scope of variables."""
    from .parser import parse_term

    syn = parse_term(text_or_syn) if isinstance(text_or_syn, str) else text_or_syn
    return Elaborator(scope).prop(syn)


def elaborate_term(text_or_syn: str | Syn, scope: Mapping[str, Var] | None = None,
                   expected: str | None = None) -> Term:
    from .parser import parse_term

    syn = parse_term(text_or_syn) if isinstance(text_or_syn, str) else text_or_syn
    return Elaborator(scope).term(syn, expected)
