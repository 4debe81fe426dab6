"""Proof terms: hypothesis names, projections (`h.1`, `h.2`, `h.le`), anonymous constructors and the Mathlib lemmas
provers pass as hints (`sq_nonneg (a - b)`, `mul_pos ha hb`, …), each with the statement Mathlib gives it.

`proof_type` returns the proposition a proof term proves in a goal's context, or raises ElabError.
"""

from __future__ import annotations

from fractions import Fraction

from .elab import ElabError, Elaborator
from .goals import Goal
from .parser import Syn, parse_term
from .terms import NAT, Cmp, Conn, Num, Op, Term

_FLIP = {">": "<", "≥": "≤", "<": ">", "≤": "≥"}


def normal_rel(p: Term) -> Term:
    """`a > b` is notation for `b < a` (reducibly equal), `a ≠ b` for `¬a = b`: compare propositions modulo this."""
    if isinstance(p, Cmp) and p.op in (">", "≥"):
        return Cmp(_FLIP[p.op], p.rhs, p.lhs)
    if isinstance(p, Cmp) and p.op == "≠":
        return Conn("not", (Cmp("=", p.lhs, p.rhs),))
    if isinstance(p, Conn):
        return Conn(p.op, tuple(normal_rel(a) for a in p.args))
    return p


def same_prop(a: Term, b: Term) -> bool:
    return normal_rel(a) == normal_rel(b)


def _zero(ty: str) -> Term:
    return Num(Fraction(0), ty)


def _sq(a: Term) -> Term:
    return Op("^", (a, Num(Fraction(2), NAT)), a.ty)


def _expect_cmp(p: Term, op: str, lemma: str) -> tuple[Term, Term]:
    """Read a hypothesis as `lhs op rhs` (accepting the flipped > / ≥ spelling)."""
    p = normal_rel(p)
    if isinstance(p, Cmp) and p.op == op:
        return p.lhs, p.rhs
    if op == "≠" and isinstance(p, Conn) and p.op == "not" and isinstance(p.args[0], Cmp) and p.args[0].op == "=":
        return p.args[0].lhs, p.args[0].rhs
    raise ElabError(f"application type mismatch in {lemma}: argument has the wrong type")


def _is_zero(t: Term) -> bool:
    return isinstance(t, Num) and t.value == 0


def _pos_arg(p: Term, lemma: str, strict: bool) -> Term:
    lhs, rhs = _expect_cmp(p, "<" if strict else "≤", lemma)
    if not _is_zero(lhs):
        raise ElabError(f"application type mismatch in {lemma}: expected a fact of the form 0 {'<' if strict else '≤'} a")
    return rhs


class ProofElaborator:
    """Elaborates proof terms in the context of one goal."""

    def __init__(self, goal: Goal):
        self.goal = goal
        self.elab = Elaborator(goal.scope())

    def prove(self, text_or_syn: str | Syn) -> Term:
        syn = parse_term(text_or_syn) if isinstance(text_or_syn, str) else text_or_syn
        return self._proof(syn)

    def _proof(self, s: Syn) -> Term:
        if s.kind == "ident":
            return self._name(s.args[0], s)
        if s.kind == "call":
            head, args = s.args
            return self._lemma(head, list(args), s)
        if s.kind == "anon":
            raise ElabError("invalid constructor ⟨...⟩, expected type must be known", s.column)
        raise ElabError("unsupported proof term (minilean knows hypotheses and a table of Mathlib lemmas)", s.column)

    def _name(self, name: str, s: Syn) -> Term:
        hyp = self.goal.find_hyp(name)
        if hyp is not None and not hyp.is_var:
            return hyp.type  # type: ignore[return-value]
        if "." in name:
            base, _, field = name.rpartition(".")
            return self._project(self._name(base, s), field, s)
        if name in _LEMMAS:
            return self._lemma(name, [], s)
        if hyp is not None:
            raise ElabError(f"type mismatch: {name} is a variable, not a proof", s.column)
        raise ElabError(f"unknown identifier '{name}'", s.column)

    def _project(self, p: Term, field: str, s: Syn) -> Term:
        if field in ("1", "left") and isinstance(p, Conn) and p.op == "and":
            return p.args[0]
        if field in ("2", "right") and isinstance(p, Conn) and p.op == "and":
            return p.args[1]
        if field in ("1", "mp") and isinstance(p, Conn) and p.op == "iff":
            from .terms import Imp

            return Imp(p.args[0], p.args[1])
        if field in ("2", "mpr") and isinstance(p, Conn) and p.op == "iff":
            from .terms import Imp

            return Imp(p.args[1], p.args[0])
        q = normal_rel(p)
        if field == "le" and isinstance(q, Cmp) and q.op == "<":
            return Cmp("≤", q.lhs, q.rhs)
        if field == "ne" and isinstance(q, Cmp) and q.op == "<":
            return Cmp("≠", q.lhs, q.rhs)
        if field == "ne'" and isinstance(q, Cmp) and q.op == "<":
            return Cmp("≠", q.rhs, q.lhs)
        if field == "symm" and isinstance(q, Cmp) and q.op == "=":
            return Cmp("=", q.rhs, q.lhs)
        raise ElabError(f"invalid field notation '{field}'", s.column)

    def _term(self, s: Syn) -> Term:
        return self.elab.term(s)

    def _lemma(self, head: str, args: list[Syn], s: Syn) -> Term:
        spec = _LEMMAS.get(head)
        if spec is None:
            if self.goal.find_hyp(head) is not None:
                raise ElabError(f"function expected: {head} (minilean does not instantiate hypotheses)", s.column)
            raise ElabError(f"unknown identifier '{head}'", s.column)
        kinds, build = spec
        if len(args) != len(kinds):
            raise ElabError(f"{head} expects {len(kinds)} explicit argument(s), got {len(args)}", s.column)
        values = [self._term(a) if k == "t" else self._proof(a) for k, a in zip(kinds, args, strict=True)]
        return build(head, *values)


def _sq_nonneg(name, a):
    return Cmp("≤", _zero(a.ty), _sq(a))


def _mul_pos(name, p, q):
    a, b = _pos_arg(p, name, True), _pos_arg(q, name, True)
    return Cmp("<", _zero(a.ty), Op("*", (a, b), a.ty))


def _mul_nonneg(name, p, q):
    a, b = _pos_arg(p, name, False), _pos_arg(q, name, False)
    return Cmp("≤", _zero(a.ty), Op("*", (a, b), a.ty))


def _pow_pos(name, p, n):
    a = _pos_arg(p, name, name == "pow_pos")
    return Cmp("<" if name == "pow_pos" else "≤", _zero(a.ty), Op("^", (a, _nat(n, name)), a.ty))


def _nat(n: Term, name: str) -> Term:
    if n.ty != NAT:
        raise ElabError(f"{name}: exponent must be a natural number")
    return n


def _sq_pos(name, p):
    try:
        a = _pos_arg(p, name, True)
    except ElabError:
        a, b = _expect_cmp(p, "≠", name)
        if not _is_zero(b):
            raise
    return Cmp("<", _zero(a.ty), _sq(a))


def _abs_nonneg(name, a):
    return Cmp("≤", _zero(a.ty), Op("abs", (a,), a.ty))


def _sq_abs(name, a):
    return Cmp("=", _sq(Op("abs", (a,), a.ty)), _sq(a))


def _mul_self_nonneg(name, a):
    return Cmp("≤", _zero(a.ty), Op("*", (a, a), a.ty))


def _abs_mul_abs_self(name, a):
    abs_a = Op("abs", (a,), a.ty)
    return Cmp("=", Op("*", (abs_a, abs_a), a.ty), Op("*", (a, a), a.ty))


def _sqrt_nonneg(name, x):
    x = _real(x)
    return Cmp("≤", _zero(x.ty), Op("sqrt", (x,), x.ty))


def _sq_sqrt(name, p):
    x = _pos_arg(p, name, False)
    root = Op("sqrt", (x,), x.ty)
    if name.endswith("mul_self_sqrt"):
        return Cmp("=", Op("*", (root, root), x.ty), x)
    return Cmp("=", _sq(root), x)


def _real(x: Term) -> Term:
    from .terms import REAL, cast

    return cast(x, REAL) if x.ty != REAL else x


def _mul_pos_of_neg_of_neg(name, p, q):
    a, za = _expect_cmp(p, "<", name)
    b, zb = _expect_cmp(q, "<", name)
    if not (_is_zero(za) and _is_zero(zb)):
        raise ElabError(f"application type mismatch in {name}")
    return Cmp("<", _zero(a.ty), Op("*", (a, b), a.ty))


def _le_refl(name, a):
    return Cmp("≤", a, a)


def _le_of_lt(name, p):
    a, b = _expect_cmp(p, "<", name)
    return Cmp("≤", a, b)


# name -> (argument kinds: "t" term / "p" proof, statement builder)
_LEMMAS = {
    "sq_nonneg": ("t", _sq_nonneg),
    "pow_two_nonneg": ("t", _sq_nonneg),
    "mul_pos": ("pp", _mul_pos),
    "mul_nonneg": ("pp", _mul_nonneg),
    "pow_pos": ("pt", _pow_pos),
    "pow_nonneg": ("pt", _pow_pos),
    "sq_pos_of_pos": ("p", _sq_pos),
    "sq_pos_of_ne_zero": ("p", _sq_pos),
    "pow_pos_of_ne_zero": ("p", _sq_pos),
    "abs_nonneg": ("t", _abs_nonneg),
    "sq_abs": ("t", _sq_abs),
    "mul_self_nonneg": ("t", _mul_self_nonneg),
    "abs_mul_abs_self": ("t", _abs_mul_abs_self),
    "abs_mul_self": ("t", _abs_mul_abs_self),
    "Real.sqrt_nonneg": ("t", _sqrt_nonneg),
    "Real.sq_sqrt": ("p", _sq_sqrt),
    "Real.mul_self_sqrt": ("p", _sq_sqrt),
    "mul_pos_of_neg_of_neg": ("pp", _mul_pos_of_neg_of_neg),
    "le_refl": ("t", _le_refl),
    "le_of_lt": ("p", _le_of_lt),
}
