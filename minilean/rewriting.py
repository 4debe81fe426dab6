"""Rewrite rules from lemmas and hypotheses, and Lean's `rw` step (docs/minilean-lean-facts.md, rw).

A rule comes from a proof of `l = r`, `l ↔ r`, or any other proposition `p` (read as `p = True`), possibly with
pattern variables (the lemma parameters no argument fixed) and side conditions (the hypotheses it still needs).
`rewrite_first` is Lean's `rw`: the first subterm, in pre-order and left to right, that matches the left side
fixes the pattern variables; then every occurrence of that instance is replaced. Subterms that mention a variable
bound inside the term are skipped, as Lean's `kabstract` skips terms with loose bound variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from .matching import instantiate, match
from .proof_terms import Application
from .terms import FALSE, PROP, TRUE, Cmp, Conn, Quant, Term, free_vars, replace_subterm


@dataclass(frozen=True)
class RewriteRule:
    name: str
    lhs: Term
    rhs: Term
    patvars: frozenset[int]  # still free: fixed by matching
    bindings: tuple[tuple[int, Term], ...]  # fixed by the arguments
    side: tuple[Term, ...]  # hypotheses the rule needs, over its parameters
    side_tactics: tuple[str | None, ...] = ()  # a `by` block given for a side hypothesis, run once it is known

    def instance(self, b: dict[int, Term]) -> tuple[Term, Term, list[Term]]:
        return instantiate(self.lhs, b), instantiate(self.rhs, b), [instantiate(s, b) for s in self.side]


@dataclass(frozen=True)
class NativeRule(RewriteRule):
    """A lemma minilean applies as a function from a term to its rewrite (the big-operator lemmas, bigops.py)."""

    step: object = None  # Callable[[Term], Term | None]


def native_rule(name: str) -> NativeRule | None:
    from .bigops import native_step

    step = native_step(name)
    if step is None:
        return None
    return NativeRule(name, TRUE, TRUE, frozenset(), (), (), (), step)


def rules_from(app: Application, reverse: bool = False, simp: bool = False) -> RewriteRule | None:
    """The rule a (possibly partial) application gives. For simp, `¬p` and `a ≠ b` are read as `p = False` and
    `(a = b) = False`, as Lean's simp reads them; for rw they are `(¬p) = True`."""
    c = app.schema.conclusion
    if isinstance(c, Cmp) and c.op == "=":
        lhs, rhs = c.lhs, c.rhs
    elif isinstance(c, Conn) and c.op == "iff":
        lhs, rhs = c.args
    elif simp and not reverse and isinstance(c, Conn) and c.op == "not":
        lhs, rhs = c.args[0], FALSE
    elif simp and not reverse and isinstance(c, Cmp) and c.op == "≠":
        lhs, rhs = Cmp("=", c.lhs, c.rhs), FALSE
    elif c.ty == PROP:
        if reverse:
            return None
        lhs, rhs = c, TRUE
    else:  # pragma: no cover - conclusions are propositions
        return None
    if reverse:
        lhs, rhs = rhs, lhs
    side = tuple(p.prop for p in app.remaining if p.prop is not None)
    tactics = tuple(app.tactics.get(p.name) for p in app.remaining if p.prop is not None)
    # term parameters no argument gave are fixed by matching, like implicit ones; the given ones are substituted
    free = frozenset(app.schema.patvars) - frozenset(app.bindings)
    b = app.bindings
    return RewriteRule(app.schema.name, instantiate(lhs, b), instantiate(rhs, b), free, (),
                       tuple(instantiate(x, b) for x in side), tactics)


def _subterms(t: Term, bound: frozenset[int]):
    """Pre-order, left to right, skipping subterms that mention variables bound inside the term."""
    if not (free_vars(t) & bound):
        yield t
    inner = bound | {t.fid} if isinstance(t, Quant) else bound
    for child in t.children():
        yield from _subterms(child, inner)


def first_instance(term: Term, rules: list[RewriteRule]) -> tuple[RewriteRule, dict[int, Term]] | None:
    for sub in _subterms(term, frozenset()):
        for rule in rules:
            if isinstance(rule, NativeRule):
                continue
            b = match(rule.lhs, sub, rule.patvars, dict(rule.bindings))
            if b is not None and not (rule.patvars - set(b)):
                return rule, b
    return None


def rewrite_first(term: Term, rules: list[RewriteRule]
                  ) -> tuple[Term, Term, list[tuple[Term, str | None]]] | None:
    """Lean's `rw` with one rule (given as its readings per type): (new term, the instance rewritten, side goals
    with the `by` block given for each, if any)."""
    for rule in rules:
        if isinstance(rule, NativeRule):
            for sub in _subterms(term, frozenset()):
                new = rule.step(sub)
                if new is not None:
                    return replace_subterm(term, sub, new), sub, []
    found = first_instance(term, rules)
    if found is None:
        return None
    rule, b = found
    lhs, rhs, side = rule.instance(b)
    tactics = rule.side_tactics or (None,) * len(side)
    return replace_subterm(term, lhs, rhs), lhs, list(zip(side, tactics, strict=True))
