"""induction / induction' / cases on a natural-number variable (docs/minilean-lean-facts.md, induction).

The goal is split into `zero` (the variable replaced by 0) and `succ` (a new variable k, and for induction the
hypothesis for k); the hypotheses that mention the variable are generalised first, as Lean reverts them, so they
come back in each case about 0 or k + 1 and, for induction, become premises of the induction hypothesis. This is
the induction principle of ℕ, so every case is a consequence of the original goal's truth.
"""

from __future__ import annotations

from fractions import Fraction

from ..elab import fresh_id
from ..goals import Goal, Hyp, render_goals
from ..terms import NAT, Imp, Num, Op, Term, Var, free_vars, substitute
from .engine import Context, TacticError, run_seq, tactic
from .script import Atomic


def _split_nat(goal: Goal, name: str, induction: bool, names: tuple[str, ...]) -> list[Goal]:
    var_hyp = goal.find_hyp(name)
    if var_hyp is None or not var_hyp.is_var:
        raise TacticError(f"unknown variable '{name}' (minilean does induction and cases on ℕ variables)")
    if var_hyp.type != NAT:
        raise TacticError(f"{'induction' if induction else 'cases'}: minilean models ℕ variables only, not "
                          f"{var_hyp.type}")
    n = var_hyp.var
    position = next(i for i, h in enumerate(goal.hyps) if h.fid == n.fid)
    kept = [h for h in goal.hyps[:position]]
    later = goal.hyps[position + 1:]
    deps = [h for h in later if not h.is_var and n.fid in free_vars(h.type)]
    others = [h for h in later if h not in deps]

    def tag(suffix: str) -> str:
        return f"{goal.tag}.{suffix}" if goal.tag else suffix

    def at(value: Term) -> tuple[list[Hyp], Term]:
        mapping = {n.fid: value}
        return ([Hyp(fresh_id(), h.name, substitute(h.type, mapping), h.inaccessible) for h in deps],
                substitute(goal.target, mapping))

    zero_hyps, zero_target = at(Num(Fraction(0), NAT))
    out = [Goal(zero_target, tuple(kept + others + zero_hyps), tag("zero"))]
    k_name = names[0] if names and names[0] != "_" else n.name
    k = Var(fresh_id(), k_name, NAT)
    succ_hyps, succ_target = at(Op("+", (k, Num(Fraction(1), NAT)), NAT))
    new = [Hyp(k.fid, k_name, NAT, not names or names[0] == "_")]
    if induction:
        mapping = {n.fid: k}
        ih: Term = substitute(goal.target, mapping)
        for h in reversed(deps):
            ih = Imp(substitute(h.type, mapping), ih, h.name)
        ih_name = names[1] if len(names) > 1 and names[1] != "_" else "ih"
        new.append(Hyp(fresh_id(), ih_name, ih, len(names) < 2 or names[1] == "_"))
    out.append(Goal(succ_target, tuple(kept + others + new + succ_hyps), tag("succ")))
    return out


def _run_alternatives(cases: list[Goal], node: Atomic, ctx: Context, induction: bool) -> list[Goal]:
    by_ctor = {}
    for ctor, names, body in node.alternatives:
        by_ctor[ctor] = (names, body)
    out = []
    for case, ctor in zip(cases, ("zero", "succ"), strict=True):
        if ctor not in by_ctor:
            raise TacticError(f"alternative '{ctor}' has not been provided")
        names, body = by_ctor[ctor]
        if ctor == "succ" and names:
            case = _rename_new(case, names, induction)  # the names the alternative binds
        rest = run_seq(body, [case], ctx)
        if rest:
            raise TacticError("unsolved goals\n" + render_goals(rest))
        out.extend(rest)
    return out


def _rename_new(case: Goal, names: tuple[str, ...], induction: bool) -> Goal:
    hyps = list(case.hyps)
    targets = [i for i, h in enumerate(hyps) if h.inaccessible][-(2 if induction else 1):]
    mapping = dict(zip(targets, names, strict=False))
    for i, new_name in mapping.items():
        h = hyps[i]
        hyps[i] = Hyp(h.fid, new_name, h.type, new_name == "_")
    return Goal(case.target, tuple(hyps), case.tag)


def _nat_tactic(goal: Goal, node: Atomic, ctx: Context, induction: bool) -> list[Goal]:
    text = node.rest.strip()
    head, _, names_text = text.partition(" with ")
    head = head.strip()
    if " " in head or not head:
        raise TacticError(f"{node.name}: expected a variable (generalizing and using clauses are not modelled)")
    if node.alternatives is not None:
        return _run_alternatives(_split_nat(goal, head, induction, ()), node, ctx, induction)
    return _split_nat(goal, head, induction, tuple(names_text.split()))


@tactic("induction", "induction'")
def induction(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return _nat_tactic(goal, node, ctx, True)


@tactic("nat_cases")
def nat_cases(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return _nat_tactic(goal, node, ctx, False)
