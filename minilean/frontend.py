"""`frontend.process`: check whole files of `theorem … := by <tactics>` declarations, as Lean's frontend does.

Each command of the file is one compilation unit with its byte boundaries and messages: tactic errors,
`unsolved goals`, and the `declaration uses 'sorry'` warning. With `sorrys`, the goals closed by `sorry`
become a new goal state, as Pantograph does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .elab import ElabError, Elaborator
from .goals import Goal, render_goals
from .parser import ParseError, parse_term
from .tactics import Context, Interrupted, TacticError, parse_script, run_seq
from .tactics.structural import _intro_one
from .theorems import StatementError, blank_comments, parse_declaration

_COMMAND = re.compile(
    r"(?m)^(?:@\[[^\]]*\]\s*)?(?:private\s+|protected\s+)?"
    r"(theorem|lemma|example|import|open|set_option|namespace|section|end|universe|variable|def|abbrev|#\w+|noncomputable)\b"
)
_HARMLESS = ("import", "open", "set_option", "namespace", "section", "end", "universe")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _line_col(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1)


def split_commands(text: str) -> list[tuple[int, int, str]]:
    """(start, end, keyword) of each command; text before the first command is not a unit."""
    clean = blank_comments(text)
    starts = [(m.start(), m.group(1)) for m in _COMMAND.finditer(clean)]
    out = []
    for i, (start, kw) in enumerate(starts):
        # a unit runs up to the start of the next command (trailing whitespace included, as in Lean)
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append((start, end, kw))
    return out


def initial_goal(decl_text: str) -> tuple[Goal, object]:
    """The goal a declaration's proof starts from: its binders already introduced under their own names."""
    decl = parse_declaration(decl_text)
    target = Elaborator().prop(parse_term(decl.as_forall()))
    goal = Goal(target)
    for name in decl.binder_names:
        goal = _intro_one(goal, None if name == "_" else name, name == "_")
    return Goal(goal.target, goal.hyps, None), decl


def check_declaration(text: str, timeout_ms: int = 0, solver_ms: int = 5000, mathlib: int = 2025
                      ) -> tuple[list[tuple[str, str, int]], list[Goal], bool]:
    """Run one declaration: (messages as (severity, text, char offset), goals closed by sorry, uses sorry)."""
    messages: list[tuple[str, str, int]] = []
    try:
        goal, decl = initial_goal(text)
    except (StatementError, ParseError, ElabError) as exc:
        return [("error", getattr(exc, "message", str(exc)), 0)], [], False
    proof = decl.proof
    if proof is None:
        return [("error", "expected ':=' and a proof", 0)], [], False
    proof_offset = len(text) - len(proof)
    body = proof.strip()
    ctx = Context(timeout_ms=timeout_ms, solver_ms=solver_ms, mathlib=mathlib)
    sorry_goals = ctx.sorry_goals
    if body == "sorry":
        ctx.has_sorry = True
        sorry_goals.append(goal)
        remaining: list[Goal] = []
    elif body.startswith("by"):
        after_by = proof[proof.index("by") + 2:]
        first_line = text[: proof_offset + proof.index("by")].count("\n") + 1
        try:
            script = parse_script(_dedent_first(after_by), first_line)
            remaining = run_seq(script, [goal], ctx)
        except ParseError as exc:
            return [("error", exc.message, proof_offset)], [], False
        except TacticError as exc:
            return [("error", exc.message, proof_offset)], sorry_goals, ctx.has_sorry
        if remaining:
            messages.append(("error", "unsolved goals\n" + render_goals(remaining), proof_offset))
    else:
        try:
            remaining = run_seq(parse_script("exact " + body), [goal], ctx)
        except (ParseError, TacticError) as exc:
            return [("error", exc.message, proof_offset)], [], False
    for severity, msg in ctx.messages:
        messages.append((severity, msg, proof_offset))
    if ctx.has_sorry:
        messages.append(("warning", "declaration uses 'sorry'", 0))
    return messages, sorry_goals, ctx.has_sorry


def _dedent_first(after_by: str) -> str:
    """Text after `by`: an inline first tactic keeps its place as a line of the block."""
    first, sep, rest = after_by.partition("\n")
    if not first.strip():
        return rest
    # an inline tactic after `by` on the declaration line: give it the indentation of the block below it
    indents = [len(line) - len(line.lstrip()) for line in rest.split("\n") if line.strip()]
    indent = min(indents) if indents else 0
    return " " * indent + first.strip() + (sep + rest if rest else "")


def process_file(text: str, sorrys: bool, timeout_ms: int, solver_ms: int,
                 store: Callable[[list[Goal]], int], options: dict, mathlib: int = 2025) -> list[dict]:
    from .protocol import message

    units = []
    for start, end, keyword in split_commands(text):
        unit_text = text[start:end]
        unit: dict = {"boundary": [_byte_offset(text, start), _byte_offset(text, end)], "messages": []}
        if keyword in ("theorem", "lemma", "example"):
            try:
                msgs, sorry_goals, _ = check_declaration(unit_text, timeout_ms, solver_ms, mathlib)
            except Interrupted:
                msgs, sorry_goals = [("error", "(interrupt) the REPL timeout expired", 0)], []
            for severity, data, offset in msgs:
                line, col = _line_col(text, start + offset)
                end_pos = _line_col(text, start + offset + (len(keyword) if severity == "warning" else 0))
                kind = "hasSorry" if data == "declaration uses 'sorry'" else "[anonymous]"
                unit["messages"].append(message(data, severity, "<anonymous>", (line, col),
                                                end_pos if severity == "warning" else None, kind))
            if sorrys and sorry_goals:
                unit["goalStateId"] = store(sorry_goals)
                unit["goals"] = [g.to_json(options) for g in sorry_goals]
                unit["goalSrcBoundaries"] = [[_byte_offset(text, start), _byte_offset(text, end)]
                                             for _ in sorry_goals]
        elif keyword not in _HARMLESS:
            line, col = _line_col(text, start)
            unit["messages"].append(message(f"minilean does not model the '{keyword}' command", "error",
                                            "<anonymous>", (line, col)))
        units.append(unit)
    return units
