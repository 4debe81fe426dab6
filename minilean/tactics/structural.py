"""Structural tactics: they transform goals the way Lean does, with Lean's hypothesis names and case tags
(docs/minilean-lean-facts.md, structural tactics): intro/intros, exact/assumption, constructor, left/right, exfalso, by_contra,
have/show, cases/rcases/obtain, use, subst, rw, sorry, rfl, trivial, contradiction.
"""

from __future__ import annotations

import re

from ..elab import ElabError, Elaborator, fresh_id
from ..goals import Goal, Hyp, render_goals
from ..matching import normal_rel, same_prop
from ..parser import ParseError, Syn, parse_term
from ..proof_terms import ProofElaborator, is_refl
from ..semantics import decide_value
from ..terms import (
    FALSE,
    PROP,
    TRUE,
    Cmp,
    Conn,
    Const,
    Imp,
    Quant,
    Term,
    Var,
    free_vars,
    pretty,
    substitute,
)
from .engine import Context, TacticError, run_seq, tactic
from .script import Atomic, parse_script, split_top


def elab_error(exc: Exception) -> Exception:
    """Syntax errors stay parse errors (Pantograph's `parseError`); elaboration errors make the tactic fail."""
    if isinstance(exc, ParseError):
        return exc
    return TacticError(getattr(exc, "message", str(exc)))


def parse_prop_in(goal: Goal, text: str) -> Term:
    try:
        return Elaborator(goal.scope()).prop(parse_term(text))
    except (ParseError, ElabError) as exc:
        raise elab_error(exc) from None


def by_runner(goal: Goal, ctx: Context | None):
    """How proof terms run their `by` blocks: on the goal's context, with the enclosing tactic's settings."""

    def run_by(text: str, target: Term) -> None:
        rest = run_seq(parse_script(text), [Goal(target, goal.hyps, None)], ctx or Context())
        if rest:
            raise TacticError("unsolved goals\n" + render_goals(rest))

    return run_by


def proof_elaborator(goal: Goal, ctx: Context | None = None) -> ProofElaborator:
    return ProofElaborator(goal, by_runner(goal, ctx))


def prove_term(goal: Goal, text_or_syn, ctx: Context | None = None, expected: Term | None = None) -> Term:
    """The proposition a proof term proves in `goal` (checked against `expected` when given), as Lean elaborates
    it; a term Lean would reject makes the tactic fail."""
    try:
        return proof_elaborator(goal, ctx).prove(text_or_syn, expected)
    except (ParseError, ElabError) as exc:
        raise elab_error(exc) from None


# ------------------------------------------------------------------------------------------------ intro
def _intro_one(goal: Goal, name: str | None, inaccessible: bool, unfold: bool = True) -> Goal:
    t = goal.target
    if isinstance(t, Quant) and t.q == "∀":
        fid = fresh_id()
        body = substitute(t.body, {t.fid: Var(fid, name or t.name, t.var_ty)})
        hyp = Hyp(fid, name or t.name, t.var_ty, inaccessible or name is None)
        return Goal(body, goal.hyps + (hyp,), goal.tag)
    if isinstance(t, Imp):
        hyp = Hyp(fresh_id(), name or t.name, t.lhs, inaccessible or name is None)
        return Goal(t.rhs, goal.hyps + (hyp,), goal.tag)
    if unfold and isinstance(t, Conn) and t.op == "not":
        hyp = Hyp(fresh_id(), name or "a", t.args[0], inaccessible or name is None)
        return Goal(FALSE, goal.hyps + (hyp,), goal.tag)
    if unfold and isinstance(t, Cmp) and t.op == "≠":
        hyp = Hyp(fresh_id(), name or "a", Cmp("=", t.lhs, t.rhs), inaccessible or name is None)
        return Goal(FALSE, goal.hyps + (hyp,), goal.tag)
    raise TacticError(f"no additional binders or let bindings in the goal to introduce\n{goal.render()}")


@tactic("intro")
def intro(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    names = node.rest.split()
    if not names:
        return [_intro_one(goal, None, True)]
    for name in names:
        if name.startswith(("⟨", "(")):
            raise TacticError("unsupported: patterns in intro (use rintro or obtain)")
        if not re.fullmatch(r"[^\W\d][\w'!?₀-₉.]*|_", name):
            raise ParseError(f"unexpected token '{name}'; expected term", node.line, node.column)
        goal = _intro_one(goal, None if name == "_" else name, name == "_")
    return [Goal(goal.target, goal.hyps, goal.tag)]


@tactic("intros")
def intros(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    names = node.rest.split()
    if names:
        return intro(goal, node, ctx)
    while isinstance(goal.target, Quant | Imp) and not (isinstance(goal.target, Quant) and goal.target.q == "∃"):
        goal = _intro_one(goal, None, True, unfold=False)
    return [Goal(goal.target, goal.hyps, goal.tag)]


@tactic("rintro")
def rintro(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    patterns = _split_patterns(node.rest)
    if not patterns:
        raise TacticError("rintro: expected a pattern")
    goals = [goal]
    for pattern in patterns:
        out = []
        for g in goals:
            if re.fullmatch(r"[^\s⟨⟩|(),]+", pattern):
                out.append(_intro_one(g, None if pattern == "_" else pattern, pattern == "_"))
            else:
                g = _intro_one(g, "h", True)
                out.extend(_rcases_hyp(g, g.hyps[-1], _parse_pattern(pattern)))
        goals = out
    return goals


def _split_patterns(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "⟨(":
            depth += 1
        elif ch in "⟩)":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


# ------------------------------------------------------------------------------------------------ closing
def _goal_closed_by(goal: Goal, proof: Term) -> bool:
    return same_prop(proof, goal.target)


@tactic("exact")
def exact(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    if text.startswith("mod_cast "):
        from .casts import exact_mod_cast

        return exact_mod_cast(goal, Atomic("exact_mod_cast", text[len("mod_cast "):]), ctx)
    if text.startswith("by "):
        rest = run_seq(parse_script(text[3:]), [goal], ctx)
        if rest:
            raise TacticError("unsolved goals\n" + render_goals(rest))
        return []
    try:
        syn = parse_term(text)
    except ParseError as exc:
        raise elab_error(exc) from None
    check_proof(goal, goal.target, syn, ctx)
    return []


def check_proof(goal: Goal, target: Term, syn: Syn, ctx: Context) -> None:
    """Check that proof syntax proves `target` in the context of `goal`, else raise a Lean-like type mismatch."""
    prove_term(goal, syn, ctx, target)


@tactic("assumption")
def assumption(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    for hyp in reversed(goal.hyps):
        if not hyp.is_var and same_prop(hyp.type, goal.target):
            return []
    raise TacticError(f"tactic 'assumption' failed\n{goal.render()}")


_is_refl = is_refl


@tactic("rfl")
def rfl(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    if _is_refl(goal.target):
        return []
    raise TacticError(f"The rfl tactic failed. Possible reasons:\n- The goal is not a reflexive relation\n{goal.render()}")


@tactic("trivial")
def trivial(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    if goal.target == TRUE or _is_refl(goal.target):
        return []
    try:
        return assumption(goal, node, ctx)
    except TacticError:
        raise TacticError(f"trivial failed\n{goal.render()}") from None


@tactic("contradiction")
def contradiction(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    props = [normal_rel(h.type) for h in goal.hyps if not h.is_var]
    for p in props:
        if p == FALSE:
            return []
        if decide_value(p) is False:  # a closed decidable hypothesis that evaluates to false
            return []
        if isinstance(p, Conn) and p.op == "not":
            inner = p.args[0]
            if inner in props or (isinstance(inner, Cmp) and inner.op == "=" and inner.lhs == inner.rhs):
                return []
    raise TacticError(f"tactic 'contradiction' failed\n{goal.render()}")


@tactic("sorry", "admit")
def sorry(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    ctx.has_sorry = True
    ctx.sorry_goals.append(goal)
    return []


@tactic("skip")
def skip(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return [goal]


@tactic("done")
def done(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    raise TacticError("unsolved goals\n" + goal.render())


# ------------------------------------------------------------------------------------------------ splitting
@tactic("constructor")
def constructor(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    t = goal.target
    if isinstance(t, Conn) and t.op == "and":
        return [Goal(t.args[0], goal.hyps, _tag(goal, "left")), Goal(t.args[1], goal.hyps, _tag(goal, "right"))]
    if isinstance(t, Conn) and t.op == "iff":
        return [Goal(Imp(t.args[0], t.args[1]), goal.hyps, _tag(goal, "mp")),
                Goal(Imp(t.args[1], t.args[0]), goal.hyps, _tag(goal, "mpr"))]
    if t == TRUE:
        return []
    if isinstance(t, Quant) and t.q == "∃":
        raise TacticError("unsupported: constructor on ∃ leaves a metavariable witness; use `use` or `refine ⟨v, ?_⟩`")
    raise TacticError(f"tactic 'constructor' failed, target is not an inductive datatype\n{goal.render()}")


def _tag(goal: Goal, suffix: str) -> str:
    return f"{goal.tag}.{suffix}" if goal.tag else suffix


@tactic("left", "right")
def left_right(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    t = goal.target
    if isinstance(t, Conn) and t.op == "or":
        chosen = t.args[0] if node.name == "left" else t.args[1]
        return [Goal(chosen, goal.hyps, _tag(goal, "h"))]
    raise TacticError(f"{node.name} failed, target is not an inductive datatype with two constructors\n{goal.render()}")


@tactic("exfalso")
def exfalso(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    return [Goal(FALSE, goal.hyps, goal.tag)]


@tactic("by_contra", "by_contra!")
def by_contra(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    name = node.rest.strip() or "this"
    if not re.fullmatch(r"[^\s:]+", name):
        raise TacticError("by_contra: expected a name")
    t = goal.target
    if isinstance(t, Conn) and t.op == "not":
        prop = t.args[0]
    else:
        prop = Conn("not", (t,))
        if node.name == "by_contra!":
            from .simplify import push_neg_prop

            prop = push_neg_prop(prop)
    return [Goal(FALSE, goal.hyps + (Hyp(fresh_id(), name, prop),), goal.tag)]


@tactic("by_cases")
def by_cases(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    name, prop_text = ("h", text)
    m = re.match(r"^([^\s:]+)\s*:\s*(.+)$", text, re.S)
    if m:
        name, prop_text = m.group(1), m.group(2)
    prop = parse_prop_in(goal, prop_text)
    return [Goal(goal.target, goal.hyps + (Hyp(fresh_id(), name, prop),), _tag(goal, "pos")),
            Goal(goal.target, goal.hyps + (Hyp(fresh_id(), name, Conn("not", (prop,))),), _tag(goal, "neg"))]


@tactic("show")
def show(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    prop = parse_prop_in(goal, node.rest)
    if not same_prop(prop, goal.target):
        raise TacticError(f"type mismatch\n  {pretty(prop, goal.display_names())}\nis not the goal")
    return [Goal(prop, goal.hyps, goal.tag)]


# ------------------------------------------------------------------------------------------------ have
_HAVE = re.compile(r"^(?P<name>[^\s:⟨]+)?\s*(?::\s*(?P<type>.+?))?\s*(?::=\s*(?P<value>.*))?$", re.S)


@tactic("have", "haveI")
def have(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    if text.startswith("⟨"):
        raise TacticError("unsupported: destructuring have (use obtain)")
    value_text: str | None = None
    head = text
    idx = _find_assign(text)
    if idx >= 0:
        head, value_text = text[:idx].strip(), text[idx + 2:].strip()
    if head.startswith(":") or not head:
        name, type_text = "this", head[1:].strip() if head else ""
    else:
        parts = head.split(":", 1)
        name = parts[0].strip()
        type_text = parts[1].strip() if len(parts) > 1 else ""
        if " " in name or "(" in name:
            raise TacticError("unsupported: have with binders (state the proposition with ∀ instead)")
    if not type_text and value_text is None:
        raise TacticError("have: expected ':' and a type or ':=' and a value")
    if type_text:
        prop = parse_prop_in(goal, type_text)
    else:
        prop = None
    if value_text is None and node.block is None:
        # Mathlib's `have h : t` without a value: first prove t, then continue with h
        return [Goal(prop, goal.hyps, name), goal.add_hyp(name, prop)]
    if node.block is not None or (value_text is not None and value_text.startswith("by")):
        if prop is None:
            raise TacticError("have: a `by` block needs a stated type")
        block = node.block if node.block is not None else parse_script(value_text[2:].strip(), node.line)
        rest = run_seq(block, [Goal(prop, goal.hyps, None)], ctx)
        if rest:
            raise TacticError("unsolved goals\n" + render_goals(rest))
        return [goal.add_hyp(name, prop)]
    try:
        syn = parse_term(value_text)
    except ParseError as exc:
        raise elab_error(exc) from None
    if prop is None:
        prop = prove_term(goal, syn)
    else:
        check_proof(goal, prop, syn, ctx)
    return [goal.add_hyp(name, prop)]


def _find_assign(text: str) -> int:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return i
    return -1


@tactic("suffices")
def suffices(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    if _find_assign(text) >= 0 or " by" in text:
        raise TacticError("unsupported: suffices with a value")
    name, _, type_text = text.partition(":")
    name = name.strip() or "this"
    prop = parse_prop_in(goal, type_text)
    return [goal.add_hyp(name, prop), Goal(prop, goal.hyps, goal.tag)]


# ------------------------------------------------------------------------------------------------ rcases family
def _parse_pattern(text: str):
    """rcases patterns: name | _ | - | rfl | ⟨p, …⟩ | p₁ | p₂ | (p) | (p : T)."""
    text = text.strip()
    alts = _split_alts(text)
    if len(alts) > 1:
        return ("alts", [_parse_pattern(a) for a in alts])
    if text.startswith("⟨") and text.endswith("⟩"):
        inner = text[1:-1]
        return ("tuple", [_parse_pattern(p) for p in split_top(inner, ",") if p.strip()])
    if text.startswith("(") and text.endswith(")"):
        inner = text[1:-1]
        if ":" in inner and not inner.strip().startswith("⟨"):
            inner = inner.split(":", 1)[0]
        return _parse_pattern(inner)
    if not text:
        return ("name", None)
    if re.fullmatch(r"[^\s⟨⟩|(),]+", text):
        if text == "_":
            return ("name", None)
        if text == "-":
            return ("clear", None)
        if text == "rfl":
            return ("rfl", None)
        return ("name", text)
    raise TacticError(f"unsupported rcases pattern '{text}'")


def _split_alts(text: str) -> list[str]:
    return [a.strip() for a in split_top(text, "|")]


def _remove(goal: Goal, hyp: Hyp) -> tuple[Hyp, ...]:
    return tuple(h for h in goal.hyps if h.fid != hyp.fid)


def _rcases_hyp(goal: Goal, hyp: Hyp, pattern) -> list[Goal]:
    """Destructure hypothesis `hyp` of `goal` along `pattern`; returns the resulting goals."""
    kind = pattern[0]
    prop = hyp.type
    if kind == "name":
        if pattern[1] is None or pattern[1] == hyp.name:
            return [goal]
        renamed = Hyp(hyp.fid, pattern[1], hyp.type, False)
        return [Goal(goal.target, tuple(renamed if h.fid == hyp.fid else h for h in goal.hyps), goal.tag)]
    if kind == "clear":
        return [Goal(goal.target, _remove(goal, hyp), goal.tag)]
    if kind == "rfl":
        return subst_with(goal, hyp)
    if kind == "alts":
        if isinstance(prop, Conn) and prop.op == "or":
            alts = pattern[1]
            first = alts[0]
            rest = ("alts", alts[1:]) if len(alts) > 2 else (alts[1] if len(alts) == 2 else ("name", None))
            base = _remove(goal, hyp)
            out = []
            for side, pat, tag in ((prop.args[0], first, "inl"), (prop.args[1], rest, "inr")):
                new = Hyp(fresh_id(), "h", side, True)
                g = Goal(goal.target, base + (new,), _tag(goal, tag))
                out.extend(_rcases_hyp(g, new, pat))
            return out
        return _rcases_hyp(goal, hyp, pattern[1][0])
    if kind == "tuple":
        parts = pattern[1]
        if len(parts) == 1:
            return _rcases_hyp(goal, hyp, parts[0])
        if isinstance(prop, Conn) and prop.op == "and":
            base = _remove(goal, hyp)
            left = Hyp(fresh_id(), "left", prop.args[0], True)
            right = Hyp(fresh_id(), "right", prop.args[1], True)
            g = Goal(goal.target, base + (left, right), _tag(goal, "intro"))
            rest = parts[1] if len(parts) == 2 else ("tuple", parts[1:])
            out = []
            for g2 in _rcases_hyp(g, left, parts[0]):
                right_now = next(h for h in g2.hyps if h.fid == right.fid)
                out.extend(_rcases_hyp(g2, right_now, rest))
            return out
        if isinstance(prop, Conn) and prop.op == "iff":
            base = _remove(goal, hyp)
            mp = Hyp(fresh_id(), "mp", Imp(prop.args[0], prop.args[1]), True)
            mpr = Hyp(fresh_id(), "mpr", Imp(prop.args[1], prop.args[0]), True)
            g = Goal(goal.target, base + (mp, mpr), _tag(goal, "intro"))
            out = []
            for g2 in _rcases_hyp(g, mp, parts[0]):
                now = next(h for h in g2.hyps if h.fid == mpr.fid)
                out.extend(_rcases_hyp(g2, now, parts[1] if len(parts) == 2 else ("tuple", parts[1:])))
            return out
        if isinstance(prop, Quant) and prop.q == "∃":
            base = _remove(goal, hyp)
            wname = parts[0][1] if parts[0][0] == "name" and parts[0][1] else prop.name
            fid = fresh_id()
            var_hyp = Hyp(fid, wname, prop.var_ty, not (parts[0][0] == "name" and parts[0][1]))
            body = substitute(prop.body, {prop.fid: Var(fid, wname, prop.var_ty)})
            h = Hyp(fresh_id(), "h", body, True)
            g = Goal(goal.target, base + (var_hyp, h), _tag(goal, "intro"))
            rest = parts[1] if len(parts) == 2 else ("tuple", parts[1:])
            return _rcases_hyp(g, h, rest)
        shown = prop if isinstance(prop, str) else pretty(prop, goal.display_names())
        raise TacticError(f"rcases: cannot destructure\n  {shown}")
    raise TacticError("unsupported rcases pattern")


def _hyp_from_text(goal: Goal, text: str, ctx: Context) -> tuple[Goal, Hyp]:
    """The hypothesis to destructure: a local name, or a proof term added as an anonymous hypothesis."""
    text = text.strip()
    hyp = goal.find_hyp(text)
    if hyp is not None and not hyp.is_var:
        return goal, hyp
    prop = prove_term(goal, text)
    hyp = Hyp(fresh_id(), "h", prop, True)
    return Goal(goal.target, goal.hyps + (hyp,), goal.tag), hyp


@tactic("rcases")
def rcases(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest
    target_text, _, pattern_text = text.partition(" with ")
    goal, hyp = _hyp_from_text(goal, target_text, ctx)
    pattern = _parse_pattern(pattern_text) if pattern_text.strip() else ("tuple", [("name", None)] * 8)
    return _rcases_hyp(goal, hyp, pattern)


@tactic("obtain")
def obtain(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    idx = _find_assign(text)
    if idx < 0:
        pat_text, _, type_text = text.partition(":")
        prop = parse_prop_in(goal, type_text)
        hyp = Hyp(fresh_id(), "h", prop, True)
        return [Goal(prop, goal.hyps, None)] + _rcases_hyp(goal.with_hyps(goal.hyps + (hyp,)), hyp,
                                                           _parse_pattern(pat_text))
    head, value = text[:idx].strip(), text[idx + 2:].strip()
    pat_text, _, type_text = head.partition(":") if not head.startswith("⟨") else (head, "", "")
    if head.startswith("⟨") and ":" in head[head.rfind("⟩"):]:
        close = head.rfind("⟩")
        pat_text, type_text = head[: close + 1], head[close + 1:].lstrip()[1:]
    if value.startswith("by"):
        prop = parse_prop_in(goal, type_text)
        rest = run_seq(parse_script(value[2:].strip()), [Goal(prop, goal.hyps, None)], ctx)
        if rest:
            raise TacticError("unsolved goals\n" + render_goals(rest))
        hyp = Hyp(fresh_id(), "h", prop, True)
        goal = goal.with_hyps(goal.hyps + (hyp,))
    else:
        goal, hyp = _hyp_from_text(goal, value, ctx)
        if type_text.strip():
            prop = parse_prop_in(goal, type_text)
            if not same_prop(prop, hyp.type):
                raise TacticError("type mismatch in obtain")
    return _rcases_hyp(goal, hyp, _parse_pattern(pat_text))


@tactic("cases")
def cases(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    var = goal.find_hyp(text.split(" with")[0].strip())
    if var is not None and var.is_var:
        from .induction import nat_cases

        return nat_cases(goal, node, ctx)
    if " with" in text or node.alternatives is not None:
        raise TacticError("unsupported: cases … with | alternatives (use rcases or cases')")
    goal, hyp = _hyp_from_text(goal, text, ctx)
    prop = hyp.type
    if isinstance(prop, Conn) and prop.op == "or":
        return _rcases_hyp(goal, hyp, ("alts", [("name", None), ("name", None)]))
    if isinstance(prop, Conn) and prop.op in ("and", "iff") or (isinstance(prop, Quant) and prop.q == "∃"):
        return _rcases_hyp(goal, hyp, ("tuple", [("name", None), ("name", None)]))
    raise TacticError(f"unsupported: cases on\n  {pretty(prop, goal.display_names()) if not isinstance(prop, str) else prop}")


@tactic("cases'")
def cases_prime(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    target_text, _, names_text = text.partition(" with ")
    names = names_text.split()
    goal, hyp = _hyp_from_text(goal, target_text, ctx)
    prop = hyp.type
    pats = [("name", None if n == "_" else n) for n in names] + [("name", None)] * 2
    if isinstance(prop, Conn) and prop.op == "or":
        return _rcases_hyp(goal, hyp, ("alts", pats[:2]))
    if isinstance(prop, Conn) and prop.op in ("and", "iff") or (isinstance(prop, Quant) and prop.q == "∃"):
        return _rcases_hyp(goal, hyp, ("tuple", pats[:2]))
    raise TacticError("unsupported: cases' on this hypothesis")


# ------------------------------------------------------------------------------------------------ use
@tactic("use", "exists")
def use(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    items = [x.strip() for x in split_top(node.rest, ",") if x.strip()]
    if not items:
        raise TacticError("use: expected a witness")
    t = goal.target
    for item in items:
        if isinstance(t, Quant) and t.q == "∃":
            try:
                w = Elaborator(goal.scope()).term(parse_term(item), t.var_ty)
            except (ParseError, ElabError) as exc:
                raise elab_error(exc) from None
            t = substitute(t.body, {t.fid: w})
        else:
            raise TacticError(f"use: too many arguments for the goal\n{goal.render()}")
    new = Goal(t, goal.hyps, _tag(goal, "h"))
    if _use_discharge(new):
        return []
    return [new]


def _use_discharge(goal: Goal) -> bool:
    """`use_discharger`: rfl, assumption, True and ∧ recursively (reducible, so no real arithmetic)."""
    t = goal.target
    if t == TRUE or _is_refl(t):
        return True
    if any(not h.is_var and same_prop(h.type, t) for h in goal.hyps):
        return True
    if isinstance(t, Conn) and t.op == "and":
        return _use_discharge(goal.with_target(t.args[0])) and _use_discharge(goal.with_target(t.args[1]))
    return False


@tactic("refine", "refine'")
def refine(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    text = node.rest.strip()
    try:
        syn = parse_term(text)
    except ParseError as exc:
        raise elab_error(exc) from None
    holes = ("?", "_") if node.name == "refine'" else ("?",)
    return _refine(goal, goal.target, syn, holes, ctx)


def _is_hole(syn: Syn, holes: tuple) -> bool:
    return syn.kind == "hole" and ((syn.args and "?" in holes) or (not syn.args and "_" in holes))


def _refine(goal: Goal, target: Term, syn: Syn, holes: tuple, ctx: Context, tag: str | None = None) -> list[Goal]:
    if _is_hole(syn, holes):
        name = syn.args[0][1:] if syn.args and syn.args[0] != "?_" else None
        return [Goal(target, goal.hyps, name or tag or goal.tag)]
    if syn.kind == "anon":
        parts = list(syn.args)
        if isinstance(target, Conn) and target.op == "and" and len(parts) >= 2:
            rest = parts[1] if len(parts) == 2 else Syn("anon", tuple(parts[1:]))
            return (_refine(goal, target.args[0], parts[0], holes, ctx, _tag(goal, "left"))
                    + _refine(goal, target.args[1], rest, holes, ctx, _tag(goal, "right")))
        if isinstance(target, Conn) and target.op == "iff" and len(parts) == 2:
            return (_refine(goal, Imp(target.args[0], target.args[1]), parts[0], holes, ctx, _tag(goal, "mp"))
                    + _refine(goal, Imp(target.args[1], target.args[0]), parts[1], holes, ctx, _tag(goal, "mpr")))
        if isinstance(target, Quant) and target.q == "∃" and len(parts) >= 2:
            if parts[0].kind == "hole":
                raise TacticError("unsupported: a hole for an ∃ witness")
            try:
                w = Elaborator(goal.scope()).term(parts[0], target.var_ty)
            except (ParseError, ElabError) as exc:
                raise elab_error(exc) from None
            body = substitute(target.body, {target.fid: w})
            rest = parts[1] if len(parts) == 2 else Syn("anon", tuple(parts[1:]))
            return _refine(goal, body, rest, holes, ctx, _tag(goal, "h"))
        raise TacticError("invalid constructor ⟨...⟩ for this goal")
    check_proof(goal, target, syn, ctx)
    return []


# ------------------------------------------------------------------------------------------------ subst / rw
def _is_var_term(t: Term, goal: Goal) -> bool:
    return isinstance(t, Var) and any(h.fid == t.fid and h.is_var for h in goal.hyps)


def subst_with(goal: Goal, hyp: Hyp) -> list[Goal]:
    prop = hyp.type
    if not (isinstance(prop, Cmp) and prop.op == "="):
        raise TacticError("invalid equality proof, it is not of the form (x = t) or (t = x)")
    if _is_var_term(prop.rhs, goal) and prop.rhs.fid not in free_vars(prop.lhs):
        var, value = prop.rhs, prop.lhs
    elif _is_var_term(prop.lhs, goal) and prop.lhs.fid not in free_vars(prop.rhs):
        var, value = prop.lhs, prop.rhs
    else:
        raise TacticError("invalid equality proof, it is not of the form (x = t) or (t = x)")
    mapping = {var.fid: value}
    hyps = tuple(
        Hyp(h.fid, h.name, h.type if h.is_var else substitute(h.type, mapping), h.inaccessible)
        for h in goal.hyps if h.fid not in (var.fid, hyp.fid)
    )
    return [Goal(substitute(goal.target, mapping), hyps, goal.tag)]


@tactic("subst")
def subst(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    names = node.rest.split()
    if not names:
        raise TacticError("subst: expected a hypothesis or variable")
    goals = [goal]
    for name in names:
        g = goals[0]
        hyp = g.find_hyp(name)
        if hyp is None:
            raise TacticError(f"unknown identifier '{name}'")
        if hyp.is_var:
            found = [h for h in g.hyps if not h.is_var and isinstance(h.type, Cmp) and h.type.op == "="
                     and hyp.var in (h.type.lhs, h.type.rhs)]
            if not found:
                raise TacticError(f"did not find equation for eliminating '{name}'")
            hyp = found[-1]
        goals = subst_with(g, hyp)
    return goals


@tactic("clear")
def clear(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    for name in node.rest.split():
        hyp = goal.find_hyp(name)
        if hyp is None:
            raise TacticError(f"unknown hypothesis '{name}'")
        goal = Goal(goal.target, _remove(goal, hyp), goal.tag)
    return [goal]


__all__ = ["PROP", "Const", "check_proof", "subst_with", "prove_term", "parse_prop_in"]
