"""Argument syntax shared by several tactics: `[t₁, t₂]` lists, `at h ⊢` locations, `with` names."""

from __future__ import annotations

from ..goals import Goal, Hyp
from .engine import TacticError
from .script import split_top


def split_list(text: str) -> tuple[list[str], str]:
    """Read a leading `[a, b, …]` list; return its items and the text after it."""
    text = text.strip()
    if not text.startswith("["):
        return [], text
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
            if depth == 0:
                inner = text[1:i]
                items = [x.strip() for x in split_top(inner, ",") if x.strip()]
                return items, text[i + 1:].strip()
    raise TacticError("expected ']'")


def split_location(text: str) -> tuple[str, list[str] | None, bool]:
    """Split off an `at …` clause: (before, hypothesis names or None for no clause, includes ⊢ or *)."""
    words = text.split()
    if "at" not in words:
        return text, None, True
    idx = text.rfind(" at ") + 1 if " at " in f" {text}" else 0
    if text.startswith("at "):
        idx = 0
    before, after = text[:idx].strip(), text[idx + 2:].strip()
    names = after.split()
    if not names:
        raise TacticError("expected a location after 'at'")
    if names == ["*"]:
        return before, ["*"], True
    goal = "⊢" in names or "|-" in names
    return before, [n for n in names if n not in ("⊢", "|-")], goal


def hyps_at(goal: Goal, names: list[str]) -> list:
    if names == ["*"]:
        return [h for h in goal.hyps if not h.is_var]
    out = []
    for name in names:
        hyp = goal.find_hyp(name)
        if hyp is None or hyp.is_var:
            raise TacticError(f"unknown hypothesis '{name}'")
        out.append(hyp)
    return out


def rewrite_at(goal: Goal, rest: str, transform, tactic_name: str) -> tuple[object, tuple, list]:
    """Apply `transform` to the hypotheses named by `rest`'s `at …` clause, or to the target when there is none
    (as ring_nf, push_neg and friends do). Returns (target, hypotheses, the rewritten hypotheses' new types);
    raises Lean's "made no progress" when nothing changed."""
    _, locations, at_goal = split_location(rest.strip()) if rest.strip() else ("", None, True)
    hyps = list(goal.hyps)
    rewritten = []
    for loc in locations or []:
        h = goal.find_hyp(loc)
        if h is None or h.is_var:
            raise TacticError(f"unknown hypothesis '{loc}'")
        new = transform(h.type)
        if new != h.type:
            rewritten.append(new)
            hyps = [Hyp(x.fid, x.name, new, x.inaccessible) if x.fid == h.fid else x for x in hyps]
    target = goal.target
    if at_goal:
        target = transform(goal.target)
    if not rewritten and target == goal.target:
        raise TacticError(f"{tactic_name} made no progress")
    return target, tuple(hyps), rewritten
