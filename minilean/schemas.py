"""Lemma statements of `lemma_table.py` elaborated into patterns, one per type the type variable `α` may take.

A `Schema` lists the lemma's parameters in order (term parameters are pattern variables, hypothesis parameters
are propositions over them) and its conclusion. `derived` adds the field notations provers use on lemma names:
`foo.mp`/`foo.1`, `foo.mpr`/`foo.2` on an iff, `foo.symm` on an equality, `foo.le` on a strict inequality.
Names resolve as under `open Nat Real`: `mod_eq_of_lt` finds `Nat.mod_eq_of_lt` when no root name exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .elab import Elaborator, fresh_id
from .lemma_table import LEMMAS, Lemma
from .parser import parse_term
from .terms import NUMERIC_TYPES, PROP, TYPE_ALIASES, Cmp, Conn, Term, Var
from .theorems import _scan_depth, binder_groups

TABLE: dict[str, Lemma] = {lemma.name: lemma for lemma in LEMMAS}
OPEN_NAMESPACES = ("Nat", "Real")


@dataclass(frozen=True)
class Param:
    name: str
    explicit: bool
    var: Var | None = None  # a term parameter (a pattern variable)
    prop: Term | None = None  # a hypothesis parameter


@dataclass(frozen=True)
class Schema:
    name: str
    ty: str | None  # what α stands for (None: the statement has no type variable)
    params: tuple[Param, ...]
    conclusion: Term

    @property
    def patvars(self) -> frozenset[int]:
        return frozenset(p.var.fid for p in self.params if p.var is not None)


def resolve(name: str) -> str | None:
    """The table name an identifier denotes under `open Nat Real`, or None."""
    if name in TABLE:
        return name
    for ns in OPEN_NAMESPACES:
        if f"{ns}.{name}" in TABLE:
            return f"{ns}.{name}"
    return None


def lemma_types(name: str) -> tuple[str | None, ...]:
    lemma = TABLE[name]
    return tuple(lemma.types) if "α" in lemma.statement else (None,)


@cache
def schema(name: str, ty: str | None) -> Schema:
    """The lemma's statement with α read as `ty`, elaborated by minilean's own elaborator."""
    lemma = TABLE[name]
    text = lemma.statement if ty is None else lemma.statement.replace("α", ty)
    colon = _scan_depth(text, 0, (":",))
    binders, conclusion_text = text[:colon], text[colon + 1:]
    scope: dict[str, Var] = {}
    params: list[Param] = []
    for opener, inner in binder_groups(binders):
        left, right = inner.split(":", 1)
        type_text = right.strip()
        for pname in left.split():
            if type_text in TYPE_ALIASES and (TYPE_ALIASES[type_text] in NUMERIC_TYPES or TYPE_ALIASES[type_text] == PROP):
                var = Var(fresh_id(), pname, TYPE_ALIASES[type_text])
                scope[pname] = var
                params.append(Param(pname, opener == "(", var=var))
            else:
                prop = Elaborator(scope).prop(parse_term(type_text))
                params.append(Param(pname, opener == "(", prop=prop))
    conclusion = Elaborator(scope).prop(parse_term(conclusion_text.strip()))
    return Schema(name, ty, tuple(params), conclusion)


_PROJECTIONS = ("mp", "mpr", "1", "2", "symm", "le", "ne", "ne'")


def derived(base: Schema, field: str) -> Schema | None:
    """The schema of `base.field`, or None when the field does not apply to its conclusion."""
    c = base.conclusion
    if isinstance(c, Conn) and c.op == "iff" and field in ("mp", "1", "mpr", "2"):
        lhs, rhs = c.args if field in ("mp", "1") else (c.args[1], c.args[0])
        return Schema(f"{base.name}.{field}", base.ty, base.params + (Param("h", True, prop=lhs),), rhs)
    if field in ("mp", "mpr", "1", "2") or not isinstance(c, Cmp):
        return None
    if field == "symm" and c.op == "=":
        return Schema(f"{base.name}.symm", base.ty, base.params, Cmp("=", c.rhs, c.lhs))
    if field == "le" and c.op in ("<", ">"):
        return Schema(f"{base.name}.le", base.ty, base.params, Cmp("≤" if c.op == "<" else "≥", c.lhs, c.rhs))
    if field in ("ne", "ne'") and c.op in ("<", ">"):
        small, big = (c.lhs, c.rhs) if c.op == "<" else (c.rhs, c.lhs)
        return Schema(f"{base.name}.{field}", base.ty, base.params,
                      Cmp("≠", small, big) if field == "ne" else Cmp("≠", big, small))
    return None


def lookup(name: str) -> list[Schema] | None:
    """Every schema (one per admissible α) of a lemma name, with field notation; None for an unknown name."""
    found = resolve(name)
    if found is not None:
        return [schema(found, ty) for ty in lemma_types(found)]
    base, _, field = name.rpartition(".")
    if base and field in _PROJECTIONS:
        found = resolve(base)
        if found is not None:
            out = [derived(schema(found, ty), field) for ty in lemma_types(found)]
            if all(s is not None for s in out):
                return out  # type: ignore[return-value]
    return None

