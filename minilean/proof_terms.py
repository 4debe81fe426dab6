"""Proof terms, elaborated as Lean elaborates them: `proof_of` returns the proposition a term proves in a goal's
context, or raises ElabError for a term Lean would reject.

Accepted: hypothesis names with projections (`h.1`, `h.2.1`, `h.le`, `h.symm`, `h.mp`), `(e).2`, `‹P›`,
applications of hypotheses (`h₀ 3`, `h hx`) and of the Mathlib lemmas of `lemma_table.py`, anonymous
constructors `⟨a, b⟩`, `show P from e`, `show P by tac`, `(e : P)` and `by tac` where the type is known.

A lemma is applied as Lean's app elaborator does: the type variable α comes from the first argument that fixes
it (a term argument's own type, or the type of the fact a proof argument proves), never by a coercion; every
later argument must then fit the instantiated parameter exactly. So `mul_pos hx hy` with `hx` about ℕ and `hy`
about ℝ is refused, as in Lean. docs/minilean-lean-facts.md (proof terms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .elab import ElabError, Elaborator, fresh_id
from .goals import Goal
from .matching import instantiate, match, normal_rel, same_prop, unify
from .parser import Syn, parse_term
from .schemas import Param, Schema, lookup
from .semantics import NotEvaluable, evaluate
from .terms import FALSE, INT, NAT, TRUE, Cmp, Conn, Imp, Quant, Term, Var, free_vars, pretty, substitute

# Runs a `by` block on a goal with the given target in the current context; raises when it does not close it.
RunBy = Callable[[str, Term], None]

_NEEDS_EXPECTED = ("by", "anon", "hole")


class _NeedsContext(Exception):
    """A lemma argument whose own implicit arguments only the other arguments can fix."""


class _Undetermined(Exception):
    """A `by` or `⟨…⟩` argument whose type still has unfixed parameters."""


@dataclass
class Application:
    """A lemma or hypothesis applied to some of its explicit arguments (for rw, apply, simp)."""

    schema: Schema
    bindings: dict[int, Term]
    remaining: list[Param] = field(default_factory=list)  # explicit parameters not supplied (or `_`, `?_`), in order
    tactics: dict[str, str] = field(default_factory=dict)  # parameter name -> `by` block to prove it once known

    def unbound(self) -> set[int]:
        return set(self.schema.patvars) - set(self.bindings)


def is_syntactic_refl(target: Term) -> bool:
    """What `with_reducible rfl` closes (the `rfl` that `rw` tries): `a = a`, `a ≤ a`, `p ↔ p`, True."""
    t = normal_rel(target)
    if t == TRUE:
        return True
    if isinstance(t, Cmp) and t.op in ("=", "≤") and t.lhs == t.rhs:
        return True
    return isinstance(t, Conn) and t.op == "iff" and t.args[0] == t.args[1]


def is_refl(target: Term) -> bool:
    """What `rfl` closes at default transparency: syntactic reflexivity, and closed ℕ/ℤ equalities by evaluation."""
    if is_syntactic_refl(target):
        return True
    t = normal_rel(target)
    if isinstance(t, Cmp) and t.op == "=" and t.lhs.ty in (NAT, INT) and not free_vars(t):
        # ℕ and ℤ literals reduce by definitional unfolding, so rfl decides closed equalities there
        try:
            return bool(evaluate(t))
        except NotEvaluable:
            return False
    return False


def schema_of_prop(name: str, prop: Term, negation_as_arrow: bool = False) -> Schema:
    """A hypothesis `∀ x, A → B` read as a lemma: its ∀ binders and premises become explicit parameters
    (and `¬A`, which is `A → False`, too when `negation_as_arrow`: for applying it, not for rewriting with it)."""
    params: list[Param] = []
    body = prop
    while True:
        if isinstance(body, Quant) and body.q == "∀":
            var = Var(fresh_id(), body.name, body.var_ty)
            params.append(Param(body.name, True, var=var))
            body = substitute(body.body, {body.fid: var})
        elif isinstance(body, Imp):
            params.append(Param(body.name, True, prop=body.lhs))
            body = body.rhs
        elif negation_as_arrow and isinstance(body, Conn) and body.op == "not":
            params.append(Param("a", True, prop=body.args[0]))  # ¬P is P → False
            body = FALSE
        else:
            return Schema(name, None, tuple(params), body)


class ProofElaborator:
    """Elaborates proof terms in the context of one goal."""

    def __init__(self, goal: Goal, run_by: RunBy | None = None):
        self.goal = goal
        self.run_by = run_by
        self.elab = Elaborator(goal.scope())

    # ------------------------------------------------------------------------------------------ entry points
    def prove(self, text_or_syn: str | Syn, expected: Term | None = None) -> Term:
        syn = parse_term(text_or_syn) if isinstance(text_or_syn, str) else text_or_syn
        prop = self._proof(syn, expected)
        if expected is not None and not same_prop(prop, expected):
            names = self.goal.display_names()
            raise ElabError(f"type mismatch\n  this\nhas type\n  {pretty(prop, names)} : Prop\n"
                            f"but is expected to have type\n  {pretty(expected, names)} : Prop", syn.column)
        return prop

    def applications(self, text_or_syn: str | Syn, negation_as_arrow: bool = False) -> list[Application]:
        """The ways a (possibly partial) application can be read, one per admissible type of its α. A premise
        not supplied stays a parameter (a side condition for rw and simp, a new goal for apply), never dropped."""
        syn = parse_term(text_or_syn) if isinstance(text_or_syn, str) else text_or_syn
        head, args = (syn.args[0], list(syn.args[1])) if syn.kind == "call" else (None, [])
        if syn.kind == "ident":
            head = syn.args[0]
        if head is not None:
            prop = self._hypothesis(head, syn)
            if prop is not None:
                schema = schema_of_prop(head, prop, negation_as_arrow)
                return self._apply([schema], args, None, syn, partial=True)
            schemas = self._schemas(head, syn)
            if schemas is not None:
                return self._apply(schemas, args, None, syn, partial=True)
        schema = schema_of_prop("this", self._proof(syn, None), negation_as_arrow)
        return self._apply([schema], [], None, syn, partial=True)

    # ------------------------------------------------------------------------------------------ proofs
    def _proof(self, s: Syn, expected: Term | None) -> Term:
        k = s.kind
        if k == "by":
            if expected is None:
                raise ElabError("minilean needs the type of a `by` block inside a term (use `show P by tac`)",
                                s.column)
            if self.run_by is None:
                raise ElabError("unsupported: `by` inside this term", s.column)
            self.run_by(s.args[0], expected)
            return expected
        if k in ("show", "ascribe"):
            prop = self._prop(s.args[0] if k == "show" else s.args[1])
            return self.prove(s.args[1] if k == "show" else s.args[0], prop)
        if k == "assumption":
            prop = self._prop(s.args[0])
            if any(not h.is_var and same_prop(h.type, prop) for h in self.goal.hyps):
                return prop
            raise ElabError(f"failed to prove ‹{pretty(prop, self.goal.display_names())}› by assumption", s.column)
        if k == "anon":
            return self._anonymous(s, expected)
        if k == "proj":
            return self._project(self._proof(s.args[0], None), s.args[1], s)
        if k == "ident":
            name = s.args[0]
            if expected is not None and name == "trivial" and expected == TRUE:
                return TRUE
            if expected is not None and name in ("rfl", "Eq.refl") and is_refl(expected):
                return expected
            prop = self._hypothesis(name, s)
            if prop is not None:
                return prop
            schemas = self._schemas(name, s)
            if schemas is None:
                raise ElabError(f"unknown identifier '{name}'", s.column)
            return self._full(self._apply(schemas, [], expected, s), s)
        if k == "call":
            head, args = s.args
            prop = self._hypothesis(head, s)
            if prop is not None:
                return self._full(self._apply([schema_of_prop(head, prop, negation_as_arrow=True)], list(args),
                                              expected, s), s)
            schemas = self._schemas(head, s)
            if schemas is None:
                raise ElabError(f"unknown identifier '{head}'", s.column)
            return self._full(self._apply(schemas, list(args), expected, s), s)
        if k == "hole":
            raise ElabError("don't know how to synthesize placeholder", s.column)
        raise ElabError("unsupported proof term (minilean knows hypotheses, projections, ⟨…⟩, show, by, and a "
                        "table of Mathlib lemmas)", s.column)

    def _prop(self, s: Syn) -> Term:
        return self.elab.prop(s)

    def _schemas(self, name: str, s: Syn) -> list[Schema] | None:
        try:
            return lookup(name)
        except ElabError as exc:  # pragma: no cover - the table's own tests elaborate every statement
            raise ElabError(f"minilean's statement of {name} does not elaborate: {exc.message}", s.column) from None

    def _hypothesis(self, name: str, s: Syn) -> Term | None:
        """The proposition named by `h`, `h.1.2`, `h.le`, …, or None when the name is not a hypothesis."""
        hyp = self.goal.find_hyp(name)
        if hyp is not None:
            if hyp.is_var:
                raise ElabError(f"type mismatch: {name} is a variable, not a proof", s.column)
            return hyp.type  # type: ignore[return-value]
        if "." in name:
            base, _, fld = name.rpartition(".")
            inner = self._hypothesis(base, s)
            if inner is not None:
                return self._project(inner, fld, s)
        return None

    def _project(self, p: Term, fld: str, s: Syn) -> Term:
        if isinstance(p, Conn) and p.op == "and" and fld in ("1", "left", "2", "right"):
            return p.args[0] if fld in ("1", "left") else p.args[1]
        if isinstance(p, Conn) and p.op == "iff" and fld in ("1", "mp", "2", "mpr"):
            a, b = p.args if fld in ("1", "mp") else (p.args[1], p.args[0])
            return Imp(a, b)
        q = normal_rel(p)
        if fld == "le" and isinstance(q, Cmp) and q.op == "<":
            return Cmp("≤", q.lhs, q.rhs)
        if fld in ("ne", "ne'") and isinstance(q, Cmp) and q.op == "<":
            return Cmp("≠", q.lhs, q.rhs) if fld == "ne" else Cmp("≠", q.rhs, q.lhs)
        if fld == "symm" and isinstance(p, Cmp) and p.op in ("=", "≠"):
            return Cmp(p.op, p.rhs, p.lhs)
        if fld == "symm" and isinstance(q, Conn) and q.op == "not" and isinstance(q.args[0], Cmp):
            inner = q.args[0]
            return Conn("not", (Cmp("=", inner.rhs, inner.lhs),))
        raise ElabError(f"invalid field notation '{fld}'", s.column)

    def _anonymous(self, s: Syn, expected: Term | None) -> Term:
        if expected is None:
            raise ElabError("invalid constructor ⟨...⟩, expected type must be known", s.column)
        parts = list(s.args)
        t = expected

        def rest() -> Syn:
            return parts[1] if len(parts) == 2 else Syn("anon", tuple(parts[1:]), s.column)

        if isinstance(t, Conn) and t.op == "and" and len(parts) >= 2:
            self.prove(parts[0], t.args[0])
            self.prove(rest(), t.args[1])
            return t
        if isinstance(t, Conn) and t.op == "iff" and len(parts) == 2:
            self.prove(parts[0], Imp(t.args[0], t.args[1]))
            self.prove(parts[1], Imp(t.args[1], t.args[0]))
            return t
        if isinstance(t, Quant) and t.q == "∃" and len(parts) >= 2:
            witness = self.elab.term(parts[0], t.var_ty)
            self.prove(rest(), substitute(t.body, {t.fid: witness}))
            return t
        if len(parts) == 1:
            return self.prove(parts[0], t)
        raise ElabError(f"invalid constructor ⟨...⟩ for the goal\n  {pretty(t, self.goal.display_names())}", s.column)

    # ------------------------------------------------------------------------------------------ application
    def _apply(self, schemas: list[Schema], args: list[Syn], expected: Term | None, s: Syn,
               partial: bool = False) -> list[Application]:
        """Apply a lemma (one schema per admissible α) to explicit arguments, as Lean's app elaborator does."""
        explicit = [p for p in schemas[0].params if p.explicit]
        if len(args) > len(explicit):
            raise ElabError(f"function expected: {schemas[0].name} takes {len(explicit)} explicit argument(s), "
                            f"got {len(args)}", s.column)
        states = [(sch, {}) for sch in schemas]
        deferred: list[int] = []
        holes: list[int] = []
        late: list[int] = []
        pending: dict[int, str] = {}
        for index, arg in enumerate(args):
            if arg.kind == "hole":
                holes.append(index)
                continue
            if arg.kind in _NEEDS_EXPECTED:
                deferred.append(index)
                continue
            if self._numeral_only(states, index, arg):
                late.append(index)  # Lean postpones a numeral until another argument fixes α
                continue
            try:
                states = self._feed(states, index, arg, s)
            except _NeedsContext:
                deferred.append(index)
        for index in late:
            states = self._feed(states, index, args[index], s)
        if expected is not None and not partial:
            states = [(sch, b2) for sch, b in states
                      if (b2 := match(sch.conclusion, expected, sch.patvars, b)) is not None] or states
        for index in deferred:
            try:
                states = self._feed_expected(states, index, args[index], s)
            except _Undetermined:
                if not (partial and args[index].kind == "by"):
                    raise ElabError(f"minilean cannot tell the type of argument {index + 1} of {schemas[0].name} "
                                    "(give the other arguments or use `show`)", args[index].column) from None
                pending[index] = args[index].args[0]  # proved once rewriting or apply has fixed its type
        if not states:
            raise ElabError(f"application type mismatch in {schemas[0].name}", s.column)
        out = []
        for sch, b in states:
            explicit = [q for q in sch.params if q.explicit]
            # a `_` for a term parameter is a metavariable for unification, not a missing argument
            gaps = sorted([i for i in holes if explicit[i].prop is not None] + list(pending))
            remaining = [explicit[i] for i in gaps] + explicit[len(args):]
            out.append(Application(sch, b, remaining, {explicit[i].name: text for i, text in pending.items()}))
        return out

    def _numeral_only(self, states: list, index: int, arg: Syn) -> bool:
        """A term argument made of numerals only, while α is still open (`le_total 0 (x - p)`)."""
        param = [p for p in states[0][0].params if p.explicit][index]
        if param.var is None or len({[p for p in sch.params if p.explicit][index].var.ty for sch, _ in states}) < 2:
            return False
        try:
            return self.elab._probe_tree(arg) is None
        except ElabError:
            return False

    def _feed(self, states: list, index: int, arg: Syn, s: Syn) -> list:
        param = [p for p in states[0][0].params if p.explicit][index]
        if param.var is not None:
            types = {[p for p in sch.params if p.explicit][index].var.ty for sch, _ in states}
            if len(types) > 1:
                # α is not known yet: the argument's own type fixes it (Lean inserts no coercion here)
                term = self.elab.term(arg)
                states = [(sch, b) for sch, b in states if sch.ty == term.ty]
                if not states:
                    raise ElabError(f"failed to synthesize an instance of {param.name}'s class for {term.ty}",
                                    arg.column)
            else:
                term = self.elab.term(arg, types.pop())
            out = []
            for sch, b in states:
                var = [p for p in sch.params if p.explicit][index].var
                if var.fid in b and b[var.fid] != term:
                    continue
                out.append((sch, {**b, var.fid: term}))
            if not out:
                raise ElabError(f"application type mismatch in {states[0][0].name}", arg.column)
            return out
        try:
            proved = self._proof(arg, None)
        except ElabError as exc:
            if arg.kind in ("call", "ident") and "don't know how to synthesize" in exc.message:
                raise _NeedsContext() from None  # e.g. `Nat.zero_le _`: its `_` is fixed by the other arguments
            raise
        out = []
        for sch, b in states:
            pattern = [p for p in sch.params if p.explicit][index].prop
            b2 = match(pattern, proved, sch.patvars, b)
            if b2 is not None:
                out.append((sch, b2))
        if not out:
            names = self.goal.display_names()
            raise ElabError(f"application type mismatch in {states[0][0].name}: the argument\n  "
                            f"{pretty(proved, names)}\ndoes not fit the parameter {param.name}", arg.column)
        return out

    def _feed_expected(self, states: list, index: int, arg: Syn, s: Syn) -> list:
        """An argument such as `by tac` or `⟨…⟩` is elaborated against its instantiated parameter type."""
        for sch, b in states:
            param = [p for p in sch.params if p.explicit][index]
            if param.var is not None:
                raise ElabError(f"{param.name} expects a term, not a proof", arg.column)
            open_vars = free_vars(param.prop) & (set(sch.patvars) - set(b))
            if open_vars and arg.kind in ("call", "ident"):
                unified = self._unify_argument(sch, b, param, arg)
                if unified is not None:
                    return [(sch, unified)]
            if open_vars:
                continue
            self.prove(arg, instantiate(param.prop, b))
            return [(sch, b)]
        raise _Undetermined()

    def _unify_argument(self, sch: Schema, b: dict[int, Term], param: Param, arg: Syn) -> dict[int, Term] | None:
        """A lemma argument with parameters of its own left open (`Nat.zero_le _`) against a parameter that is
        only partly known: unify the two; both must end fully determined."""
        for inner in self.applications(arg):
            if inner.remaining:
                continue
            conclusion = instantiate(inner.schema.conclusion, inner.bindings)
            variables = frozenset(sch.patvars) | frozenset(inner.unbound())
            got = unify(instantiate(param.prop, b), conclusion, variables, b)
            if got is None:
                continue
            if free_vars(instantiate(conclusion, got)) & variables:
                continue
            return {k: v for k, v in got.items() if k in sch.patvars}
        return None

    def _full(self, apps: list[Application], s: Syn) -> Term:
        """A complete application: every explicit argument given and every parameter determined."""
        for app in apps:
            if app.remaining or app.unbound():
                continue
            missing = [p for p in app.schema.params if not p.explicit and p.prop is not None]
            if missing:
                continue
            return instantiate(app.schema.conclusion, app.bindings)
        app = apps[0]
        if app.remaining:
            raise ElabError(f"{app.schema.name} needs {len(app.remaining)} more explicit argument(s)", s.column)
        raise ElabError(f"don't know how to synthesize the implicit arguments of {app.schema.name} "
                        "(give them explicitly or state the expected type)", s.column)


__all__ = ["ProofElaborator", "Application", "RunBy", "is_refl", "is_syntactic_refl", "schema_of_prop", "match",
           "same_prop", "normal_rel"]
