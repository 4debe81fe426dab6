"""field_simp: clear denominators in (in)equalities over ℚ and ℝ (docs/minilean-lean-facts.md, field_simp).

Each side is brought to `N / D` (`ratfun.py`), clearing the denominators the discharger proves nonzero (for `<`
and `≤`: positive); then `N₁ / D₁ R N₂ / D₂` becomes `N₁ * D₂ R N₂ * D₁`, scaled by a positive integer so no
numeral fraction is left. With every cleared denominator nonzero (positive) this is an equivalence, so the
tactic can never turn a false goal into a provable one. A denominator the discharger cannot handle stays
where it is, as Mathlib's field_simp silently skips it. The result is closed when its two sides are equal as
polynomials (the 2025 field_simp normalises with ring_nf). docs/minilean-lean-facts.md (field_simp).
"""

from __future__ import annotations

from fractions import Fraction

from ..goals import Goal, Hyp
from ..matching import normal_rel
from ..poly import Atoms, PolyTooLarge, add, const, mul, scale
from ..ratfun import coefficient_lcm, to_ratfun
from ..semantics import NotEvaluable, evaluate
from ..simp import Simplifier
from ..terms import FALSE, RAT, REAL, TRUE, Cmp, Conn, Op, Term, free_vars
from .args import split_list, split_location
from .decision import _sign as sign_of
from .engine import Context, TacticError, tactic
from .ring import _poly_term
from .script import Atomic


def _discharger(facts: list[Term]):
    """field_simp's side-condition prover: hypotheses and hints, numerals, positivity-style sign reasoning."""
    hyps = [normal_rel(f) for f in facts]

    def discharge(d: Term) -> str | None:
        sign = sign_of(d, hyps)
        return sign if sign in ("pos", "ne") else None

    return discharge


def clear_denominators(p: Term, facts: list[Term], cross_inequalities: bool = True) -> Term | None:
    """The proposition with denominators cleared, or None when field_simp would leave it unchanged. Without
    `cross_inequalities` (the simp-based field_simp before 2025) an inequality only has each side combined into
    one fraction."""
    if isinstance(p, Conn) and p.op == "not" and isinstance(p.args[0], Cmp) and p.args[0].op == "=":
        inner = clear_denominators(p.args[0], facts, cross_inequalities)
        return None if inner is None else Conn("not", (inner,))
    if not (isinstance(p, Cmp) and p.op in ("=", "≠", "<", "≤", ">", "≥") and p.lhs.ty in (RAT, REAL)):
        return None
    atoms = Atoms()
    discharge = _discharger(facts)
    try:
        left, right = to_ratfun(p.lhs, atoms, discharge), to_ratfun(p.rhs, atoms, discharge)
        if p.op not in ("=", "≠") and not cross_inequalities:
            return _combined_sides(p, left, right, atoms)
        if p.op not in ("=", "≠") and not (left.positive and right.positive):
            return None  # an inequality may only be multiplied by positive denominators
        lhs, rhs = mul(left.num, right.den), mul(right.num, left.den)
        factor = coefficient_lcm(lhs, rhs)
    except PolyTooLarge:
        return None
    if not (left.cleared or right.cleared) and factor == 1:
        return None
    lhs, rhs = scale(lhs, Fraction(factor)), scale(rhs, Fraction(factor))
    if lhs == rhs and p.op in ("=", "≤", "≥"):
        return TRUE
    if add(lhs, rhs, Fraction(-1)) == {} and p.op in ("≠", "<", ">"):
        return FALSE
    ty = p.lhs.ty
    new = Cmp(p.op, _poly_term(lhs or const(0), atoms, ty), _poly_term(rhs or const(0), atoms, ty))
    if not free_vars(new):
        try:
            return TRUE if evaluate(new) else FALSE
        except NotEvaluable:
            return new
    return new


def _fraction_term(r, atoms: Atoms, ty: str) -> Term:
    """`N / D` as a term, numeral fractions cleared from both; `N` alone when `D` is 1."""
    factor = Fraction(coefficient_lcm(r.num, r.den))
    num_poly, den_poly = scale(r.num, factor), scale(r.den, factor)
    if den_poly == const(1):
        return _poly_term(num_poly, atoms, ty)
    return Op("/", (_poly_term(num_poly or const(0), atoms, ty), _poly_term(den_poly, atoms, ty)), ty)


def _combined_sides(p: Cmp, left, right, atoms: Atoms) -> Term | None:
    """The simp-based field_simp on `<`/`≤`: each side becomes one fraction `N / D` (the cleared denominators
    are nonzero, so each side keeps its value); nothing is cross-multiplied."""
    if not (left.cleared or right.cleared):
        return None
    ty = p.lhs.ty
    return Cmp(p.op, _fraction_term(left, atoms, ty), _fraction_term(right, atoms, ty))


def _facts_of(goal: Goal, items: list[str], ctx: Context) -> list[Term]:
    """Hypotheses and the fully applied proof terms among `field_simp [...]`'s arguments: the discharger's facts."""
    from .structural import prove_term

    out = [h.type for h in goal.hyps if not h.is_var]
    for item in items:
        if item.startswith(("←", "-")):
            continue
        try:
            out.append(prove_term(goal, item, ctx))
        except TacticError:
            continue  # a bare lemma name is a rewrite rule, not a fact
    return out


@tactic("field_simp")
def field_simp(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    """Simp with the given rules (and notation, literal ℕ/ℤ arithmetic, logic), then clear denominators."""
    from .simplify import simp_rules

    items, rest = split_list(node.rest.strip())
    _, locations, at_goal = split_location(rest) if rest.strip() else ("", None, True)
    if rest.strip() and locations is None:
        raise TacticError(f"field_simp: unsupported arguments '{rest.strip()}'")
    rules = simp_rules(goal, items, ctx)
    facts = _facts_of(goal, items, ctx)

    def simplify(p: Term, own: Term | None) -> Term:
        usable = [f for f in facts if f is not own]
        q = Simplifier("simp", [r for r in rules if own is None or r.name not in _names_of(goal, own)], usable,
                       defaults=False).run(p)
        cleared = clear_denominators(q, usable, cross_inequalities=ctx.mathlib >= 2025)
        if ctx.mathlib < 2025 and cleared is not None and cleared != clear_denominators(q, usable):
            ctx.era_rule_used = True  # the pre-2025 field_simp left an inequality uncrossed (docs: field_simp)
        return q if cleared is None else cleared

    hyps = list(goal.hyps)
    changed = False
    targets = [h for h in goal.hyps if not h.is_var] if locations == ["*"] else \
        [goal.find_hyp(n) for n in (locations or [])]
    for name, h in zip(locations or [], targets, strict=False):
        if h is None or h.is_var:
            raise TacticError(f"unknown hypothesis '{name}'")
    for h in targets:
        new = simplify(h.type, h.type)
        if new == h.type:
            continue
        changed = True
        if new == FALSE:
            return []  # a hypothesis that became False closes the goal
        idx = next(i for i, x in enumerate(hyps) if x.fid == h.fid)
        if new == TRUE:
            hyps.pop(idx)
        else:
            hyps[idx] = Hyp(h.fid, h.name, new, h.inaccessible)
    target = goal.target
    if at_goal:
        new_target = simplify(goal.target, None)
        if new_target != goal.target:
            changed, target = True, new_target
    if not changed:
        raise TacticError("simp made no progress")
    if target == TRUE:
        return []
    return [Goal(target, tuple(hyps), goal.tag)]


def _names_of(goal: Goal, prop: Term) -> set[str]:
    return {h.name for h in goal.hyps if not h.is_var and h.type is prop}
