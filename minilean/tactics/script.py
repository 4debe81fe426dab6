"""Parse tactic scripts: sequences (`;`, newlines), `t <;> s`, `·` focus blocks, `try`/`all_goals`/`any_goals`,
`first | a | b`, parenthesised sequences and indented `by` blocks (as in whole-proof files).

Atomic tactics keep their argument text; each tactic parses its own arguments when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..parser import ParseError


@dataclass(frozen=True)
class Atomic:
    name: str
    rest: str
    line: int = 1
    column: int = 0
    block: tuple | None = None  # nested `by` block for `have … := by` followed by indented lines
    # `induction n with | zero => … | succ k ih => …`: (constructor, names, tactic nodes) per alternative
    alternatives: tuple | None = None


@dataclass(frozen=True)
class Then:
    first: object
    then: object


@dataclass(frozen=True)
class Combinator:
    """focus (·), try, all_goals, any_goals, repeat, paren: each runs a sequence `body` in its own way."""

    kind: str
    body: tuple


@dataclass(frozen=True)
class First:
    alternatives: tuple


_PREFIX_COMBINATORS = {"try": "try", "all_goals": "all_goals", "any_goals": "any_goals", "repeat": "repeat",
                       "focus": "focus"}


CONV_WORDS = frozenset({"conv", "conv_lhs", "conv_rhs"})


def split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            if sep == ";" and text.startswith("<;>", i - 1):
                i += 1
                continue
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def parse_script(text: str, first_line: int = 1) -> tuple:
    """Parse a tactic script (one line or an indented block) into a tuple of tactic nodes."""
    lines = []
    for offset, raw in enumerate(text.split("\n")):
        stripped = _strip_comment(raw)
        if stripped.strip():
            lines.append((len(stripped) - len(stripped.lstrip()), stripped.strip(), first_line + offset))
    lines = _join_continuations(lines)
    return _block(lines)


def _strip_comment(line: str) -> str:
    idx = line.find("--")
    return line if idx < 0 else line[:idx]


def _join_continuations(lines: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """A line inside open brackets, one starting with `<;>`, or one after a line ending in `<;>`, continues the
    previous line."""
    out: list[list] = []
    depth = 0
    for indent, text, lineno in lines:
        if out and (depth > 0 or text.startswith("<;>") or out[-1][1].endswith("<;>")):
            out[-1][1] += " " + text
        else:
            out.append([indent, text, lineno])
        depth = max(0, _depth(out[-1][1]))
    return [tuple(x) for x in out]


def _depth(text: str) -> int:
    return sum(text.count(c) for c in "([{⟨") - sum(text.count(c) for c in ")]}⟩")


def _block(lines: list[tuple[int, str, int]]) -> tuple:
    out = []
    i = 0
    while i < len(lines):
        indent, text, lineno = lines[i]
        j = i + 1
        while j < len(lines) and lines[j][0] > indent:
            j += 1
        nested = lines[i + 1:j]
        if text == "calc" or text.startswith("calc "):
            # the steps: the first one (on the line or the next), then deeper lines and `_ = …` lines
            k = i + 1
            if text == "calc" and k < len(lines):
                k += 1
            while k < len(lines) and (lines[k][0] > indent or lines[k][1].startswith("_")):
                k += 1
            steps = [text[4:].strip()] if text != "calc" else []
            steps += [t for _, t, _ in lines[i + 1:k]]
            out.append(Atomic("calc", "\n".join(steps), lineno, indent))
            i = k
            continue
        arms = nested and nested[0][1].startswith("|") and text.rstrip().endswith(" with")
        if text.rstrip().endswith(" with") and (arms or (j < len(lines) and lines[j][0] == indent
                                                         and lines[j][1].startswith("|"))):
            # alternatives, either indented under the tactic or at its own column
            if not arms:
                k = j
                while k < len(lines) and (lines[k][0] > indent or (lines[k][0] == indent and
                                                                    lines[k][1].startswith("|"))):
                    k += 1
                nested, j = lines[j:k], k
            out.append(_with_alternatives(text, lineno, indent, nested))
            i = j
            continue
        out.extend(_line(text, lineno, indent, nested))
        i = j
    return tuple(out)


def _with_alternatives(text: str, lineno: int, indent: int, lines: list) -> Atomic:
    """`induction n with` / `cases h with` followed by `| ctor names => tactics` arms."""
    arms = []
    base = lines[0][0]
    i = 0
    while i < len(lines):
        arm_indent, arm, arm_line = lines[i]
        if arm_indent != base or not arm.startswith("|") or "=>" not in arm:
            raise ParseError("expected '| constructor names => tactics'", arm_line, arm_indent)
        j = i + 1
        while j < len(lines) and lines[j][0] > base:
            j += 1
        head, _, rest = arm[1:].partition("=>")
        words = head.split()
        if not words:
            raise ParseError("expected a constructor name", arm_line, arm_indent)
        body = tuple(_line_seq(rest.strip(), arm_line, arm_indent)) if rest.strip() else ()
        arms.append((words[0], tuple(words[1:]), body + _block(lines[i + 1:j])))
        i = j
    word = text.split(None, 1)[0]
    rest = text[len(word):].strip()
    return Atomic(word, rest[: -len("with")].strip(), lineno, indent, None, tuple(arms))


def _line(text: str, lineno: int, indent: int, nested: list) -> list:
    if text.startswith(("·", ".")) and (len(text) == 1 or text[1] in " \t"):
        body = _line_seq(text[1:].strip(), lineno, indent + 2) if text[1:].strip() else ()
        return [Combinator("focus", tuple(body) + _block(nested))]
    if text.startswith(("case ", "next")) and text.rstrip().endswith("=>"):
        return [Combinator("focus", _block(nested))]
    if text.startswith(("case ", "next")) and "=>" in text:
        rest = text.split("=>", 1)[1].strip()
        return [Combinator("focus", tuple(_line_seq(rest, lineno, indent)) + _block(nested))]
    if nested and text in _PREFIX_COMBINATORS:
        # `all_goals` (or `try`, `repeat` …) alone on its line takes the indented block below as its sequence
        return [Combinator(_PREFIX_COMBINATORS[text], _block(nested))]
    if nested and text.rstrip().endswith("by"):
        head = text.rstrip()[:-2].rstrip()
        seq = _line_seq(head + " by", lineno, indent)
        last = seq[-1]
        if isinstance(last, Atomic):
            seq[-1] = Atomic(last.name, last.rest[: len(last.rest) - 2].rstrip(), last.line, last.column,
                             _block(nested))
            return seq
        raise ParseError("unexpected 'by' block", lineno, indent)
    if text.split(None, 1)[0] in CONV_WORDS and "=>" in text:
        # `conv => lhs; rw [h]` and its indented block: the conversion sequence is the tactic's argument
        word = text.split(None, 1)[0]
        body = "\n".join([text[len(word):].strip()] + [t for _, t, _ in nested])
        return [Atomic(word, body, lineno, indent)]
    if nested and text.rstrip().endswith("=>"):
        raise ParseError("unsupported syntax: pattern-matching alternatives", lineno, indent)
    seq = _line_seq(text, lineno, indent)
    if nested:
        # continuation lines of a long tactic (for instance a wrapped `nlinarith [...]` list)
        if isinstance(seq[-1], Atomic) and len(seq) == 1:
            extra = " ".join(t for _, t, _ in nested)
            return _line_seq(text + " " + extra, lineno, indent)
        raise ParseError("unexpected indentation", nested[0][2], nested[0][0])
    return seq


def _line_seq(text: str, lineno: int, column: int) -> list:
    out = []
    for part in split_top(text, ";"):
        if part.strip():
            out.append(_then(part.strip(), lineno, column + max(0, text.find(part.strip()))))
    return out


def _then(text: str, lineno: int, column: int):
    parts = split_top(text, "<;>")
    node = _single(parts[0].strip(), lineno, column)
    for part in parts[1:]:
        if not part.strip():
            raise ParseError("expected tactic after '<;>'", lineno, column + len(text))
        node = Then(node, _single(part.strip(), lineno, column))
    return node


def _single(text: str, lineno: int, column: int):
    if not text:
        raise ParseError("expected tactic", lineno, column)
    if text.startswith("(") and _matching_close(text) == len(text) - 1:
        inner = text[1:-1].strip()
        return Combinator("paren", tuple(_line_seq(inner, lineno, column + 1)))
    word = text.split(None, 1)[0]
    rest = text[len(word):].strip()
    if word in _PREFIX_COMBINATORS:
        if not rest:
            raise ParseError(f"expected tactic after '{word}'", lineno, column + len(text))
        return Combinator(_PREFIX_COMBINATORS[word], (_then(rest, lineno, column + len(word) + 1),))
    if word == "first":
        alternatives = [a.strip() for a in split_top(rest, "|")]
        alternatives = [a for a in alternatives if a]
        if not alternatives:
            raise ParseError("expected '|'", lineno, column + len(text))
        return First(tuple(tuple(_line_seq(a, lineno, column)) for a in alternatives))
    if not (word[0].isalpha() or word[0] in "_·"):
        raise ParseError(f"unexpected token '{word[0]}'; expected tactic", lineno, column)
    return Atomic(word, rest, lineno, column)


def _matching_close(text: str) -> int:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
            if depth == 0:
                return i
    return -1
