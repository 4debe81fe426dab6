"""Theorem statements: loading benchmark files and reading Lean `theorem name binders : type := proof` text.

Two file formats are accepted: the benchmark JSON `{"theorems": [{"name", "statement"}]}` (statements already
in `∀ …, goal` form) and miniF2F-lean4 JSONL (one record per line with `name`, `formal_statement`, `split`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


class StatementError(Exception):
    """A theorem text that does not have the `theorem name binders : type := …` shape."""


@dataclass(frozen=True)
class TheoremText:
    keyword: str  # theorem / lemma / example
    name: str | None
    binders: str  # "(x y : ℝ) (h₀ : 0 < x)", possibly empty
    binder_names: tuple[str, ...]
    statement: str  # the type after the colon
    proof: str | None  # text after `:=` (including a leading `by`), or None
    start: int  # byte-free character offsets of the declaration inside the source text
    end: int

    def as_forall(self) -> str:
        """The closed statement Pantograph's goal.start expects: `∀ binders, type`."""
        return f"∀ {self.binders}, {self.statement}" if self.binders else self.statement


_DECL = re.compile(r"(?m)^\s*(?:@\[[^\]]*\]\s*)?(?:private\s+|protected\s+)?(theorem|lemma|example)\b")


def _scan_depth(text: str, start: int, stops: tuple[str, ...]) -> int:
    """Index of the first stop string at bracket depth 0 (or -1)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0:
            for stop in stops:
                if text.startswith(stop, i) and not (stop == ":" and text.startswith(":=", i)):
                    return i
        i += 1
    return -1


def blank_comments(text: str) -> str:
    """Replace `-- …` and `/- … -/` comments by spaces, keeping every offset and newline in place."""
    out = list(text)
    i = 0
    while i < len(text):
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = len(text) if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif text.startswith("/-", i):
            j = text.find("-/", i + 2)
            j = len(text) if j < 0 else j + 2
            out[i:j] = ["\n" if c == "\n" else " " for c in text[i:j]]
            i = j
        else:
            i += 1
    return "".join(out)


def parse_declaration(text: str, offset: int = 0) -> TheoremText:
    """Read one declaration starting at `offset` (the keyword); comments are ignored."""
    text = blank_comments(text)
    m = _DECL.match(text, offset)
    if not m:
        raise StatementError("expected 'theorem', 'lemma' or 'example'")
    keyword = m.group(1)
    i = m.end()
    name = None
    if keyword != "example":
        nm = re.compile(r"\s*([^\s(\[{:]+)").match(text, i)
        if not nm:
            raise StatementError("expected a theorem name")
        name = nm.group(1)
        i = nm.end()
    colon = _scan_depth(text, i, (":",))
    if colon < 0:
        raise StatementError("expected ':' before the statement")
    binders = text[i:colon].strip()
    assign = _scan_depth(text, colon + 1, (":=",))
    statement = text[colon + 1: assign if assign >= 0 else len(text)].strip()
    proof = text[assign + 2:] if assign >= 0 else None
    names: list[str] = []
    normalised = []
    for opener, inner in binder_groups(binders):
        if opener == "[":
            raise StatementError("unsupported: instance binder")
        if ":" not in inner:
            raise StatementError(f"unsupported binder '{inner}'")
        left, right = inner.split(":", 1)
        names.extend(left.split())
        normalised.append(f"({left.strip()} : {' '.join(right.split())})")
    if binders and not normalised:
        raise StatementError(f"unsupported binders '{binders}'")
    return TheoremText(keyword, name, " ".join(normalised), tuple(names), " ".join(statement.split()),
                       proof, m.start(), len(text))


def binder_groups(binders: str) -> list[tuple[str, str]]:
    """Split `(a b : ℝ) {c : ℕ} (h : …)` into (opening bracket, inside) pairs, respecting nesting."""
    groups: list[tuple[str, str]] = []
    i = 0
    while i < len(binders):
        ch = binders[i]
        if ch.isspace():
            i += 1
            continue
        if ch not in "([{⦃":
            raise StatementError(f"unsupported binder syntax near '{binders[i:i + 20]}'")
        depth, j = 0, i
        while j < len(binders):
            if binders[j] in "([{⦃⟨":
                depth += 1
            elif binders[j] in ")]}⦄⟩":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth != 0:
            raise StatementError("unbalanced brackets in binders")
        groups.append((ch, binders[i + 1:j]))
        i = j + 1
    return groups


def load_theorems(path: str | Path) -> list[dict]:
    """Records `{name, split, statement}` (statement in ∀ form) from a benchmark JSON or miniF2F-lean4 JSONL file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    records: list[dict] = []
    if text.lstrip().startswith("{") and path.suffix == ".json":
        data = json.loads(text)
        split = "test" if "test" in path.stem else "valid" if "valid" in path.stem else "all"
        for item in data["theorems"]:
            records.append({"name": item["name"], "split": split, "statement": item["statement"]})
        return records
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        formal = item.get("formal_statement") or item.get("statement")
        try:
            statement = parse_declaration(formal).as_forall() if "theorem" in formal or "lemma" in formal else formal
            error = None
        except StatementError as exc:
            statement, error = None, str(exc)
        records.append({"name": item["name"], "split": item.get("split", "all"), "statement": statement,
                        "error": error})
    return records
