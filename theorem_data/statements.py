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




# Every other kind of bracket as ( or ), so one pair of str.count calls measures depth.
_TO_PARENS = tuple(zip("[{⦃⟨]}⦄⟩", "(((())))", strict=True))


def _as_parens(text: str) -> str:
    # str.replace, skipped when the bracket is absent, is ~30x faster here than str.translate on non-ASCII text.
    for bracket, paren in _TO_PARENS:
        if bracket in text:
            text = text.replace(bracket, paren)
    return text


def _top_level(parens: str, token: str, start: int) -> int:
    """Index of the first `token` at bracket depth 0 from `start` (depth 0 there), or -1; a `:` that begins
    `:=` does not count. `parens` is the text with every bracket mapped to ( or )."""
    depth, seen = 0, start
    at = parens.find(token, start)
    while at >= 0:
        depth += parens.count("(", seen, at) - parens.count(")", seen, at)
        seen = at
        if depth == 0 and not (token == ":" and parens.startswith(":=", at)):
            return at
        at = parens.find(token, at + 1)
    return -1


def _signature_split(text: str) -> tuple[int, int]:
    """Indexes of the first `:` and of the following `:=` at bracket depth 0 (-1 where missing).

    The importer reads tens of thousands of declarations, so candidates are found with str.find and their
    depth with str.count, both in C; the colons inside binders are skipped by their depth.
    """
    parens = _as_parens(text)
    colon = _top_level(parens, ":", 0)
    if colon < 0:
        return -1, -1
    return colon, _top_level(parens, ":=", colon + 1)


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
    colon, body_end = _signature_split(rest)
    if colon < 0:
        raise ValueError("no `:` separating the arguments from the statement")
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


def binder_names(binders: str) -> list[str] | None:
    """The names `(x y : ℝ) {n : ℕ} (h₀ : 0 < x)` binds, in order (None for binder syntax this does not read:
    instance binders, anonymous or pattern binders).

    A search starts at the closed `∀ binders, type` goal, so a proof written with the binders in context is
    replayed after `intro` of these names (docs/embedded-benchmark.md)."""
    from minilean.theorems import StatementError, binder_groups  # the verifier's own reading of binders

    try:
        groups = binder_groups(binders)
    except StatementError:
        return None
    names: list[str] = []
    for opener, inside in groups:
        if opener not in "({⦃" or ":" not in inside:
            return None
        group = inside.split(":", 1)[0].split()
        if not group or not all(re.fullmatch(r"[^\s()\[\]{}:,]+", n) for n in group):
            return None
        names += group
    return names
