"""conv / conv_lhs / conv_rhs on the goal (docs/minilean-lean-facts.md, conv): rewriting inside one part of it.

The conversion commands modelled are `lhs` and `rhs` (the first and second argument of a relation or a binary
operation), `skip`, and `rw`/`rewrite [rules]`, which rewrites the focused term as `rw` does but tries nothing
afterwards. Once the sequence has run, the new goal replaces the old one and `conv` tries `rfl` on it (the
`rfl` tactic, as Lean's `conv` does). Anything else is refused, so conv is never stronger than Lean's.
"""

from __future__ import annotations

from ..goals import Goal
from ..proof_terms import is_refl
from ..rewriting import rewrite_first
from ..terms import Cmp, Conn, Op, Term, rebuild
from .args import split_list
from .engine import Context, TacticError, tactic
from .rewrite import has_unfixed_parameters, rules_for
from .script import Atomic, split_top
from .structural import by_runner

_SIDES = {"lhs": 0, "rhs": 1}


def _binary_args(t: Term) -> tuple[Term, ...] | None:
    """The two explicit arguments `lhs`/`rhs` pick in `t`, when `t` is a relation or a binary operation."""
    if isinstance(t, Cmp):
        return (t.lhs, t.rhs)
    if isinstance(t, Conn) and t.op == "iff":
        return t.args
    if isinstance(t, Op) and len(t.args) == 2 and t.op in ("+", "-", "*", "/", "%", "^"):
        return t.args
    return None


def _at(t: Term, path: list[int]) -> Term:
    for i in path:
        args = _binary_args(t)
        assert args is not None
        t = args[i]
    return t


def _put(t: Term, path: list[int], new: Term) -> Term:
    if not path:
        return new
    args = list(_binary_args(t) or ())
    args[path[0]] = _put(args[path[0]], path[1:], new)
    return rebuild(t, tuple(args))


def _commands(body: str) -> list[str]:
    out = []
    for line in body.split("\n"):
        out += [c.strip() for c in split_top(line, ";") if c.strip()]
    return out


def run_conv(goal: Goal, commands: list[str], ctx: Context) -> tuple[Term, list[Goal]]:
    """The goal's target after the conversion commands, and the side goals that `rw` steps left."""
    target = goal.target
    path: list[int] = []
    side: list[Goal] = []
    run_by = by_runner(goal, ctx)
    for command in commands:
        word = command.split(None, 1)[0]
        if word in _SIDES and command == word:
            if _binary_args(_at(target, path)) is None:
                raise TacticError(f"conv: cannot select '{word}' here (not a relation or binary operation)")
            path.append(_SIDES[word])
        elif word == "skip" and command == word:
            continue
        elif word in ("rw", "rewrite"):
            items, rest = split_list(command[len(word):].strip())
            if not items or rest.strip():
                raise TacticError(f"conv: unsupported rewrite '{command}'")
            for item in items:
                rules, _ = rules_for(goal, item, ctx)
                focus = _at(target, path)
                done = rewrite_first(focus, rules)
                if done is None:
                    raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern\n  {item}\n"
                                      f"{goal.render()}")
                new, _, sides = done
                for prop, tactic_text in sides:
                    if has_unfixed_parameters(prop, rules):
                        raise TacticError("rw: a hypothesis of the rule still has unknown parameters")
                    if tactic_text is None:
                        side.append(Goal(prop, goal.hyps, None))
                    else:
                        run_by(tactic_text, prop)
                target = _put(target, path, new)
        else:
            raise TacticError(f"conv: '{command}' is not modelled by minilean (lhs, rhs, skip, rw)")
    return target, side


@tactic("conv", "conv_lhs", "conv_rhs")
def conv(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    head, arrow, body = node.rest.partition("=>")
    if not arrow or head.strip():
        raise TacticError("conv: only `conv => …` on the goal is modelled (not `at` or `in`)")
    commands = _commands(body)
    if node.name != "conv":
        commands = [node.name.removeprefix("conv_")] + commands
    target, side = run_conv(goal, commands, ctx)
    new = Goal(target, goal.hyps, goal.tag)
    if is_refl(new.target):
        return side
    return [new] + side
