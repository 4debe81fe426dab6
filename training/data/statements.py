"""Turn a `theorem name binders : type := by ...` declaration into the closed expression Lean's `goal.start` takes.

`theorem foo (x : ℝ) (h : 0 < x) : x ^ 2 > 0 := by sorry` becomes `∀ (x : ℝ) (h : 0 < x), x ^ 2 > 0`: the same
proposition, with the arguments bound by `∀`. Brackets are tracked so that a `:` or `:=` inside a binder or a
`fun` does not end the signature early.
"""

import re

from .errors import DataFileError

_OPEN = "([{⦃⟨"
_CLOSE = ")]}⦄⟩"
_DECL = re.compile(r"^\s*(?:@\[[^\]]*\]\s*)?(?:private\s+|protected\s+)?(theorem|lemma|example)\b\s*")
_NAME = re.compile(r"[^\s(\[{⦃:]+")


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


def _top_level(text: str, start: int, stop_at: str) -> int:
    """Index of the first `stop_at` at bracket depth 0 from `start`, or -1."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                return -1
        elif depth == 0 and text.startswith(stop_at, i):
            if stop_at == ":" and text.startswith(":=", i):
                i += 2
                continue
            return i
        i += 1
    return -1


def declaration_parts(formal_statement: str) -> tuple[str, str, str]:
    """(name, binders, type) of a theorem declaration; raises ValueError saying what is missing."""
    text = formal_statement.strip()
    decl = _DECL.match(text)
    if not decl:
        raise ValueError("expected a declaration starting with `theorem` or `lemma`")
    rest = text[decl.end():]
    name = ""
    if decl.group(1) != "example":
        name_match = _NAME.match(rest)
        if not name_match:
            raise ValueError("the declaration has no name")
        name = name_match.group(0)
        rest = rest[name_match.end():]
    colon = _top_level(rest, 0, ":")
    if colon < 0:
        raise ValueError("no `:` separating the arguments from the statement")
    body_end = _top_level(rest, colon + 1, ":=")
    if body_end < 0:
        raise ValueError("no `:=` after the statement")
    binders = normalise_whitespace(rest[:colon])
    goal = normalise_whitespace(rest[colon + 1 : body_end])
    if not goal:
        raise ValueError("the statement after `:` is empty")
    return name, binders, goal


def closed_statement(formal_statement: str) -> str:
    """The declaration as one closed proposition: `∀ binders, type` (or just `type` with no arguments)."""
    _, binders, goal = declaration_parts(formal_statement)
    return f"∀ {binders}, {goal}" if binders else goal


def closed_statement_at(formal_statement: str, *, line: int, path: str = "") -> str:
    try:
        return closed_statement(formal_statement)
    except ValueError as exc:
        raise DataFileError(f"cannot read formal_statement: {exc}", line=line, path=path) from None
