"""rw / rewrite / rwa / nth_rewrite (docs/minilean-lean-facts.md, rw): rewriting with hypotheses and Mathlib lemmas.

Each rule is elaborated in the current goal (a lemma may be partly applied: `rw [abs_of_nonneg h]`,
`rw [mul_comm a b]`, `rw [div_add_div _ _ hb hd]`, or bare: `rw [mul_comm]`); the first match fixes its pattern
variables, every occurrence of that instance is rewritten, and the hypotheses the lemma still needs become new
goals after the main one. Afterwards `rw` tries `rfl` at reducible transparency only: it closes `a = a`, never
`2 + 3 = 5` (docs/minilean-lean-facts.md, rw).
"""

from __future__ import annotations

from ..elab import ElabError
from ..goals import Goal, Hyp
from ..matching import normal_rel
from ..parser import ParseError, parse_term
from ..proof_terms import is_refl, is_syntactic_refl
from ..rewriting import NativeRule, RewriteRule, native_rule, rewrite_first, rules_from
from ..terms import NAT, Cmp, Num, Op, Term, free_vars, pretty
from .args import split_list, split_location
from .engine import Context, TacticError, tactic
from .script import Atomic
from .structural import assumption, by_runner, elab_error, proof_elaborator


def rules_for(goal: Goal, text: str, ctx: Context) -> tuple[list[RewriteRule], str]:
    """The readings (one per admissible type) of one `rw` rule such as `← h` or `Nat.mul_mod a b`."""
    text = text.strip()
    reverse = text.startswith(("←", "<-"))
    body = text[1:] if text.startswith("←") else text[2:] if text.startswith("<-") else text
    native = native_rule(body.strip())
    if native is not None and not reverse:
        return [native], body.strip()
    try:
        apps = proof_elaborator(goal, ctx).applications(parse_term(body.strip()))
    except (ParseError, ElabError) as exc:
        raise elab_error(exc) from None
    rules = [r for r in (rules_from(a, reverse) for a in apps) if r is not None]
    if not rules:
        raise TacticError(f"rw: equality or iff proof expected\n  {body.strip()}")
    return rules, body.strip()


def _rewrite(term: Term, rules: list[RewriteRule], goal: Goal, where: str, ctx: Context
             ) -> tuple[Term, list[Term]]:
    done = rewrite_first(term, rules)
    if done is None:
        names = goal.display_names()
        pattern = rules[0].name if isinstance(rules[0], NativeRule) else pretty(rules[0].lhs, names)
        raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern in the {where}\n"
                          f"  {pattern}\n{goal.render()}")
    new, _, side = done
    goals = []
    run_by = by_runner(goal, ctx)
    for prop, tactic_text in side:
        if has_unfixed_parameters(prop, rules):
            raise TacticError("rw: a hypothesis of the rule still has unknown parameters")
        if tactic_text is None:
            goals.append(prop)
        else:
            run_by(tactic_text, prop)
    return new, goals


def has_unfixed_parameters(prop: Term, rules: list[RewriteRule]) -> bool:
    """Whether a side goal still mentions a parameter no match fixed (Lean would leave a metavariable)."""
    params = set().union(*(r.patvars for r in rules)) if rules else set()
    return bool(free_vars(prop) & params)


# The ℕ operations that Lean's definitional unfolding evaluates on literals by its built-in arithmetic; `^`
# is not among them at that toolchain (docs/minilean-lean-facts.md, versions).
_LITERAL_NAT_OPS = frozenset({"+", "-", "*", "/", "%"})


def _nat_literal_arithmetic(term: Term) -> bool:
    if isinstance(term, Num):
        return term.ty == NAT and term.value.denominator == 1
    return isinstance(term, Op) and term.op in _LITERAL_NAT_OPS and term.ty == NAT and all(
        _nat_literal_arithmetic(a) for a in term.args)


def decided_by_reducible_nat_literals(target: Term) -> bool:
    """Whether the 2023 `rfl` after rw closes `target`: an equation between ℕ literal expressions built with
    `+ - * / %` that holds. ℤ arithmetic, powers, sums and anything with a variable are left open."""
    t = normal_rel(target)
    return (isinstance(t, Cmp) and t.op == "=" and _nat_literal_arithmetic(t.lhs)
            and _nat_literal_arithmetic(t.rhs) and is_refl(t))


@tactic("rw", "rewrite", "rwa")
def rw(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    items, rest = split_list(node.rest.strip())
    if not items:
        raise TacticError("rw: expected a list of rewrite rules [..]")
    _, locations, at_goal = split_location(rest) if rest.strip() else ("", None, True)
    side_goals: list[Term] = []
    for item in items:
        rules, _ = rules_for(goal, item, ctx)
        hyps = list(goal.hyps)
        if locations:
            names = [h.name for h in goal.hyps if not h.is_var] if locations == ["*"] else locations
            changed = False
            for name in names:
                h = goal.find_hyp(name) if locations != ["*"] else next(x for x in goal.hyps if x.name == name)
                if h is None or h.is_var:
                    raise TacticError(f"unknown hypothesis '{name}'")
                try:
                    new, side = _rewrite(h.type, rules, goal, "hypothesis", ctx)
                except TacticError:
                    if locations == ["*"]:
                        continue
                    raise
                changed = True
                side_goals += side
                hyps = [Hyp(x.fid, x.name, new, x.inaccessible) if x.fid == h.fid else x for x in hyps]
            goal = Goal(goal.target, tuple(hyps), goal.tag)
            if locations == ["*"] and at_goal:
                try:
                    new, side = _rewrite(goal.target, rules, goal, "target expression", ctx)
                    goal, changed = Goal(new, goal.hyps, goal.tag), True
                    side_goals += side
                except TacticError:
                    pass
            elif at_goal:
                new, side = _rewrite(goal.target, rules, goal, "target expression", ctx)
                goal, changed = Goal(new, goal.hyps, goal.tag), True
                side_goals += side
            if not changed:
                raise TacticError("tactic 'rewrite' failed: did not find an instance of the pattern anywhere")
        else:
            new, side = _rewrite(goal.target, rules, goal, "target expression", ctx)
            goal = Goal(new, goal.hyps, goal.tag)
            side_goals += side
    others = [Goal(s, goal.hyps, None) for s in side_goals]
    if is_syntactic_refl(goal.target):
        return others
    if ctx.mathlib <= 2023 and decided_by_reducible_nat_literals(goal.target):
        # the 2023 toolchain's `rfl` after rw decided closed ℕ literal arithmetic (docs: versions)
        ctx.era_rule_used = True
        return others
    if node.name == "rwa":
        return assumption(goal, node, ctx) + others
    return [goal] + others
