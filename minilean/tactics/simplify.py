"""Simp-like tactics: norm_num, simp, simp_all, simpa, push_neg, with `at h` locations (docs/minilean-lean-facts.md,
simp and norm_num).

The rewriting itself is `minilean/simp.py`; here are the tactic front ends: the rules a tactic adds (hypotheses,
lemma names, proof terms, `*`), the locations it acts on, Lean's messages when nothing changed, a hypothesis that
becomes False closing the goal.
"""

from __future__ import annotations

from ..elab import ElabError
from ..goals import Goal, Hyp
from ..matching import instantiate, same_prop
from ..parser import ParseError, parse_term
from ..proof_terms import Application, schema_of_prop
from ..rewriting import RewriteRule, native_rule, rules_from
from ..semantics import decide_value
from ..simp import Simplifier
from ..terms import FALSE, TRUE, Cmp, Conn, Const, Imp, Quant, Term, pretty
from .args import rewrite_at, split_list, split_location
from .engine import Context, TacticError, tactic
from .script import Atomic
from .structural import elab_error, proof_elaborator, prove_term


def prop_rules(name: str, p: Term, reverse: bool = False) -> list[RewriteRule]:
    """Rules from a hypothesis for simp: a conjunction gives one rule per conjunct (as Lean's simp splits it)."""
    if isinstance(p, Conn) and p.op == "and" and not reverse:
        return prop_rules(name, p.args[0]) + prop_rules(name, p.args[1])
    schema = schema_of_prop(name, p)
    # the premises of a hypothesis `A → l = r` are side conditions of its rule, as in Lean
    rule = rules_from(Application(schema, {}, [q for q in schema.params if q.explicit]), reverse, simp=True)
    return [] if rule is None else [rule]


def simp_rules(goal: Goal, items: list[str], ctx: Context) -> list[RewriteRule]:
    """The rules `simp [a, ← b, *]` adds: hypotheses, lemma names (bare or applied) and proof terms."""
    rules: list[RewriteRule] = []
    for item in items:
        if item.startswith("-"):
            continue  # `-lemma` removes a lemma from the default set; minilean's set is smaller anyway
        reverse = item.startswith(("←", "<-"))
        text = item[1:].strip() if item.startswith("←") else item[2:].strip() if reverse else item.strip()
        if text == "*":
            for h in goal.hyps:
                if not h.is_var:
                    rules += prop_rules(h.name, h.type)
            continue
        hyp = goal.find_hyp(text)
        if hyp is not None and not hyp.is_var:
            rules += prop_rules(text, hyp.type, reverse)
            continue
        native = native_rule(text)
        if native is not None and not reverse:
            rules.append(native)
            continue
        try:
            apps = proof_elaborator(goal, ctx).applications(parse_term(text))
        except (ParseError, ElabError) as exc:
            raise elab_error(exc) from None
        found = [r for r in (rules_from(a, reverse, simp=True) for a in apps) if r is not None]
        if len(apps) == 1 and not apps[0].unbound() and not apps[0].remaining:
            found = prop_rules(text, instantiate(apps[0].schema.conclusion, apps[0].bindings), reverse)
        if not found:
            raise TacticError(f"invalid 'simp', proposition expected\n  {text}")
        rules += found
    return rules


def _parse_simp_args(node: Atomic, name: str) -> tuple[bool, list[str], list[str] | None, bool]:
    rest = node.rest.strip()
    only = False
    for prefix in ("only", "arith"):
        if rest.startswith(prefix):
            only = only or prefix == "only"
            rest = rest[len(prefix):].strip()
    items, rest = split_list(rest)
    if rest.startswith("using"):
        raise TacticError(f"{name}: unsupported 'using'")
    _, locations, at_goal = split_location(rest) if rest else ("", None, True)
    if rest and locations is None:
        raise TacticError(f"{name}: unsupported arguments '{rest}'")
    return only, items, locations, at_goal


def simplify_goal(goal: Goal, simp_for, locations: list[str] | None, at_goal: bool, name: str,
                  lenient: Context | None = None, decide_era: Context | None = None) -> list[Goal]:
    """Simplify the chosen locations; a hypothesis that becomes False closes the goal, one that becomes True goes."""
    changed = False
    hyps = list(goal.hyps)
    targets = []
    if locations:
        targets = [h for h in goal.hyps if not h.is_var] if locations == ["*"] else []
        for loc in locations if locations != ["*"] else []:
            h = goal.find_hyp(loc)
            if h is None or h.is_var:
                raise TacticError(f"unknown hypothesis '{loc}'")
            targets.append(h)
    for h in targets:
        new = simp_for(h).run(h.type)
        if new == h.type:
            continue
        changed = True
        if new == FALSE:
            return []  # a hypothesis reduced to False closes the goal
        idx = next(i for i, x in enumerate(hyps) if x.fid == h.fid)
        if new == TRUE:
            hyps.pop(idx)
        else:
            hyps[idx] = Hyp(h.fid, h.name, new, h.inaccessible)
    target = goal.target
    if at_goal:
        new_target = simp_for(None).run(target)
        if new_target != target:
            changed, target = True, new_target
    if decide_era is not None and decide_value(target) is True:
        decide_era.era_rule_used = True  # simp's `decide := true` of the 2023 toolchain
        return []
    if not changed:
        if lenient is not None:
            lenient.era_rule_used = True
            return [goal]
        raise TacticError(f"{name} made no progress" if name == "norm_num" else "simp made no progress")
    if target == TRUE:
        return []
    return [Goal(target, tuple(hyps), goal.tag)]


def _simp_tactic(goal: Goal, node: Atomic, ctx: Context, mode: str, name: str) -> list[Goal]:
    only, items, locations, at_goal = _parse_simp_args(node, name)
    rules = simp_rules(goal, items, ctx)
    facts = [h.type for h in goal.hyps if not h.is_var]

    def simp_for(hyp: Hyp | None) -> Simplifier:
        own = rules if hyp is None else [r for r in rules if r.name != hyp.name]
        return Simplifier(mode, own, [f for f in facts if hyp is None or f is not hyp.type],
                          defaults=not only and node.name != "norm_num1")

    return simplify_goal(goal, simp_for, locations, at_goal, name,
                         lenient=ctx if mode == "norm_num" and ctx.mathlib < 2025 else None,
                         decide_era=ctx if ctx.mathlib <= 2023 and at_goal else None)


@tactic("norm_num", "norm_num1")
def norm_num(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return _simp_tactic(goal, node, ctx, "norm_num", "norm_num")


@tactic("simp", "simp_arith", "dsimp", "simp?")
def simp(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return _simp_tactic(goal, node, ctx, "simp", "simp")


@tactic("simp_all", "simp_all?")
def simp_all(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    only, items, locations, _ = _parse_simp_args(node, "simp_all")
    if locations is not None:
        raise TacticError("simp_all takes no location")
    extra = simp_rules(goal, items, ctx)
    start = goal
    for _ in range(4):
        hyps = list(goal.hyps)
        for i, h in enumerate(hyps):
            if h.is_var or h.type == TRUE:
                continue
            others = [r for o in hyps if not o.is_var and o.fid != h.fid and o.type != TRUE
                      for r in prop_rules(o.name, o.type)]
            new = Simplifier("simp", extra + others, defaults=not only).run(h.type)
            if new == FALSE:
                return []
            hyps[i] = Hyp(h.fid, h.name, new, h.inaccessible)
        hyps = [h for h in hyps if h.is_var or h.type != TRUE]
        rules = extra + [r for o in hyps if not o.is_var for r in prop_rules(o.name, o.type)]
        target = Simplifier("simp", rules, defaults=not only).run(goal.target)
        new_goal = Goal(target, tuple(hyps), goal.tag)
        if target == TRUE:
            return []
        if new_goal.target == goal.target and new_goal.hyps == goal.hyps:
            break
        goal = new_goal
    if goal.target == start.target and goal.hyps == start.hyps:
        raise TacticError("simp_all made no progress")
    return [goal]


@tactic("simpa", "simpa?")
def simpa(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    """`simpa [rules] using e`: simplify the goal and the type of `e` alike, then close one with the other."""
    rest = node.rest.strip()
    using = None
    if " using " in f" {rest} ":
        idx = f" {rest} ".index(" using ")
        rest, using = rest[:max(0, idx - 1)].strip() if idx else "", rest[idx + len("using"):].strip()
        if rest.startswith("using"):
            rest = ""
    only = rest.startswith("only")
    items, tail = split_list(rest[4:].strip() if only else rest)
    if tail:
        raise TacticError(f"simpa: unsupported arguments '{tail}'")
    rules = simp_rules(goal, items, ctx)
    facts = [h.type for h in goal.hyps if not h.is_var]
    simplifier = Simplifier("simp", rules, facts, defaults=not only)
    target = simplifier.run(goal.target)
    if using is not None:
        proved = simplifier.run(prove_term(goal, using, ctx))
        if proved == FALSE or target == TRUE or same_prop(proved, target):
            return []
        raise TacticError(f"type mismatch (simpa): after simplification the term proves\n  "
                          f"{pretty(proved, goal.display_names())}\nbut the goal is\n  "
                          f"{pretty(target, goal.display_names())}")
    if target == TRUE:
        return []
    for h in goal.hyps:
        if not h.is_var:
            simple = simplifier.run(h.type)
            if simple == FALSE or same_prop(simple, target):
                return []
    raise TacticError(f"simpa failed to close the goal\n  {pretty(target, goal.display_names())}")


def push_neg_prop(p: Term) -> Term:
    """Push ¬ inward as Mathlib's push_neg does (¬(p ∧ q) becomes p → ¬q)."""
    if isinstance(p, Conn) and p.op == "not":
        x = p.args[0]
        if isinstance(x, Conn) and x.op == "not":
            return push_neg_prop(x.args[0])
        if isinstance(x, Conn) and x.op == "and":
            return Imp(push_neg_prop(x.args[0]), push_neg_prop(Conn("not", (x.args[1],))))
        if isinstance(x, Conn) and x.op == "or":
            return Conn("and", (push_neg_prop(Conn("not", (x.args[0],))), push_neg_prop(Conn("not", (x.args[1],)))))
        if isinstance(x, Imp):
            return Conn("and", (push_neg_prop(x.lhs), push_neg_prop(Conn("not", (x.rhs,)))))
        if isinstance(x, Quant):
            q = "∃" if x.q == "∀" else "∀"
            return Quant(q, x.fid, x.name, x.var_ty, push_neg_prop(Conn("not", (x.body,))))
        if isinstance(x, Cmp):
            table = {"<": ("≤", True), "≤": ("<", True), ">": ("≤", False), "≥": ("<", False), "=": ("≠", False),
                     "≠": ("=", False)}
            if x.op in table:
                op, swap = table[x.op]
                return Cmp(op, x.rhs, x.lhs) if swap else Cmp(op, x.lhs, x.rhs)
        if isinstance(x, Const):
            return Const(not x.value)
        return p
    if isinstance(p, Conn):
        return Conn(p.op, tuple(push_neg_prop(a) for a in p.args))
    if isinstance(p, Imp):
        return Imp(push_neg_prop(p.lhs), push_neg_prop(p.rhs), p.name)
    if isinstance(p, Quant):
        return Quant(p.q, p.fid, p.name, p.var_ty, push_neg_prop(p.body))
    return p


@tactic("push_neg")
def push_neg(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    target, hyps, _ = rewrite_at(goal, node.rest, push_neg_prop, "push_neg")
    return [Goal(target, hyps, goal.tag)]
