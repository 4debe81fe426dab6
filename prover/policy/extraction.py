"""Turning model output into Lean tactics.

Two readings of a completion (docs/policy.md#first-tactic, docs/policy.md#whole-proof-splitting):

* ``extract_first_tactic``: the first tactic only, for tactic-level (best-first) search.
* ``extract_proof_tactics``: a whole proof split into the tactics that are replayed one ``goal.tactic``
  call at a time (hybrid search, pass@N). How a proof is cut decides what Lean can replay, so the rules
  follow BurnQED's tested behaviour, including its heuristics for ``<;>`` chains; the golden tests in
  ``tests/policy`` pin them down.

Both work on layout alone (indentation, brackets, a few keywords); neither parses Lean.
"""

from __future__ import annotations

from dataclasses import dataclass

_BULLETS = "·∙"  # U+00B7 and U+2219: focus bullets
_OPENING_BRACKETS = "([{⟨"
_CLOSING_BRACKETS = ")]}⟩"
_DECLARATION_KEYWORDS = ("theorem ", "lemma ", "example ")
# Lean commands that end a file's proof; `#` alone is not enough (`#s` is Finset.card notation).
_COMMANDS = ("#print", "#eval", "#check", "#exit", "#reduce", "#lint", "#synth", "#guard_msgs")
# Tactics that can never run on their own: leftovers of bullets and dangling combinators.
_JUNK_TACTICS = frozenset({"", "<;>", "·", "∙", "."})


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _bracket_balance(text: str) -> int:
    return sum(ch in _OPENING_BRACKETS for ch in text) - sum(ch in _CLOSING_BRACKETS for ch in text)


def _split_lines(text: str) -> list[str]:
    # Only "\n" separates lines: str.splitlines would also split on U+2028 and friends, which Lean does not.
    return [line.removesuffix("\r") for line in text.split("\n")]


def _strip_code_fence(text: str) -> str:
    """The code of a completion, up to the end of the proof.

    A completion that opens a block (```` ```lean4 ````) yields what lies inside it. Otherwise the
    completion is already inside the prompt's open block, so a fence line closes it and what follows is
    prose.
    """
    lines = _split_lines(text)
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("```") and first[3:].strip():
        lines = _split_lines(text.lstrip())[1:]
    code: list[str] = []
    for line in lines:
        # A fence closes the code; a command such as `#print axioms` or `#eval` cannot occur inside a
        # proof, so the proof ended before it.
        if line.lstrip().startswith(("```", *_COMMANDS)):
            break
        code.append(line)
    return "\n".join(code)


def _drop_comments(lines: list[str]) -> list[str]:
    """Remove comments: ``--`` lines, ``/- … -/`` blocks (even when they span lines) and trailing ``--``.

    Dropping them before the layout analysis means a comment can neither end a block body early nor be
    mistaken for a tactic, and a trailing comment cannot swallow the rest of a ``<;>`` chain once lines
    are joined.
    """
    kept: list[str] = []
    depth = 0
    for line in lines:
        stripped = _strip_bullet(line.strip())
        if depth > 0:
            depth = max(0, depth + stripped.count("/-") - stripped.count("-/"))
            continue
        if stripped.startswith("--") or stripped.startswith("-/"):
            continue
        if stripped.startswith("/-"):
            depth = max(0, stripped.count("/-") - stripped.count("-/"))
            continue
        trailing = line.find(" --")
        kept.append(line[:trailing].rstrip() if trailing >= 0 else line)
    return kept


def _strip_bullet(text: str) -> str:
    """``· tac`` -> ``tac``. Replayed one by one, a focus bullet makes Lean see only the focused goal, and
    closing it looks like a finished proof (docs/lean.md#result-classification)."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in _BULLETS:
        return text
    while stripped and (stripped[0] in _BULLETS or stripped[0].isspace()):
        stripped = stripped[1:]
    return stripped


def _is_block_opener(stripped: str) -> bool:
    return stripped == "by" or stripped.endswith((" by", ":= by", " where", " do", " =>"))


def _is_by_opener(stripped: str) -> bool:
    return stripped == "by" or stripped.endswith((" by", ":= by"))


def _is_calc(stripped: str) -> bool:
    return stripped == "calc" or stripped.startswith(("calc ", "calc\t"))


def _is_declaration(stripped: str) -> bool:
    return stripped.startswith(_DECLARATION_KEYWORDS)


def _ends_with_chain(stripped: str) -> bool:
    return stripped.endswith("<;>") and stripped != "<;>"


def _chain_continues_at(lines: list[str], start: int) -> bool:
    """Whether the next non-blank lines continue a ``<;>`` chain: a ``<;> tac`` line, or bare ``<;>``
    separators followed by a line that itself ends in ``<;>``."""
    after_bare_separator = False
    for line in lines[start:]:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == "<;>":
            after_bare_separator = True
            continue
        if stripped.startswith("<;> "):
            return True
        return after_bare_separator and _ends_with_chain(stripped)
    return False


# ---------------------------------------------------------------------------------------------------------
# First tactic (tactic-level search)


def extract_first_tactic(text: str) -> str:
    """The first tactic of a completion, or ``""`` if it holds none.

    The first non-comment line, with its indented body when it opens a block (``by``, ``where``, ``do``,
    ``=>``) or its continuation lines while brackets are unbalanced. Continuation lines are trimmed and
    joined with newlines.
    """
    lines = _drop_comments(_split_lines(_strip_code_fence(text.rstrip())))
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines):
        return ""

    first = _strip_bullet(lines[start].strip())
    if first in _JUNK_TACTICS:
        # A bare bullet line: the tactic is on the next non-blank line.
        start += 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start == len(lines):
            return ""
        first = lines[start].strip()

    base_indent = _indent(lines[start])
    parts = [first]
    following = lines[start + 1 :]
    if _is_block_opener(first):
        body_indent: int | None = None
        for line in following:
            if not line.strip():
                break
            indent = _indent(line)
            if indent <= base_indent or (body_indent is not None and indent < body_indent):
                break
            body_indent = indent if body_indent is None else body_indent
            parts.append(line.strip())
    elif _bracket_balance(first) > 0:
        balance = _bracket_balance(first)
        for line in following:
            if not line.strip():
                break
            parts.append(line.strip())
            balance += _bracket_balance(line)
            if balance <= 0:
                break
    return "\n".join(parts).strip()


# ---------------------------------------------------------------------------------------------------------
# Whole proof (hybrid search, pass@N replay)


@dataclass
class _Cursor:
    lines: list[str]
    pos: int = 0

    def done(self) -> bool:
        return self.pos >= len(self.lines)

    def line(self, offset: int = 0) -> str:
        return self.lines[self.pos + offset]

    def next_nonblank(self, start: int) -> int | None:
        for index in range(start, len(self.lines)):
            if self.lines[index].strip():
                return index
        return None


def _take_declaration(cursor: _Cursor) -> str | None:
    """Skip a ``theorem``/``lemma``/``example`` header, which may wrap onto deeper-indented lines.

    Returns the tactic written inline after ``:= by`` on the header's last line, if any
    (``theorem foo : True := by trivial``).
    """
    header_indent = _indent(cursor.line())
    while True:
        stripped = cursor.line().strip()
        cursor.pos += 1
        if _is_by_opener(stripped):
            return None
        if ":= by " in stripped:
            return stripped.rsplit(":= by ", 1)[1].strip() or None
        if ":=" in stripped:
            return None  # a term-mode proof: nothing to replay as tactics
        following = cursor.next_nonblank(cursor.pos)
        if following is None or _indent(cursor.lines[following]) <= header_indent:
            return None
        cursor.pos = following


def _take_calc(cursor: _Cursor, head: str, indent: int) -> str:
    block = [head]
    cursor.pos += 1
    while not cursor.done():
        stripped = cursor.line().strip()
        if not stripped:
            cursor.pos += 1
            continue
        if _indent(cursor.line()) > indent or stripped.startswith("_"):
            block.append(stripped)
            cursor.pos += 1
        else:
            break
    return "\n".join(block)


def _take_block_body(cursor: _Cursor, indent: int) -> list[str]:
    """Raw body lines of a block opener: deeper lines, plus ``|`` match arms and ``_`` calc steps.
    A blank line belongs to the body only if the body goes on after it."""
    body: list[str] = []
    cursor.pos += 1
    while not cursor.done():
        stripped = cursor.line().strip()
        if not stripped:
            following = cursor.next_nonblank(cursor.pos + 1)
            if following is not None and _indent(cursor.lines[following]) > indent:
                cursor.pos += 1
                continue
            break
        if _indent(cursor.line()) > indent or stripped.startswith(("|", "_")):
            body.append(cursor.line())
            cursor.pos += 1
        else:
            break
    return body


def _typed_have_subgoal(opener: str) -> str | None:
    """``have h : T := by`` -> ``have h : T``: the bare form opens ``T`` as a goal that the body's tactics
    then close one by one. Only typed ``have``/``let`` qualify: without a type there is no goal to open."""
    if not opener.startswith(("have ", "let ")):
        return None
    if opener.endswith(":= by"):
        core = opener[: -len(":= by")]
    elif opener.endswith(" by"):
        core = opener[: -len(" by")]
    else:
        return None
    core = core.rstrip()
    return core if " : " in core else None


def _block_tactic(opener: str, body: list[str]) -> str:
    """One tactic from an opener and its body. A one-line ``by`` body goes inline because Pantograph
    rejects ``by`` followed by a newline (docs/policy.md#whole-proof-splitting); longer bodies keep their
    relative indentation under a two-space base so nested blocks still parse."""
    if not body:
        return opener
    if _is_by_opener(opener) and len(body) == 1:
        return f"{opener} {body[0].strip()}"
    base = _indent(body[0])
    rendered = [opener]
    for line in body:
        rendered.append(" " * (2 + max(0, _indent(line) - base)) + line.strip())
    return "\n".join(rendered)


def _take_bracketed(cursor: _Cursor, head: str) -> str:
    parts = [head]
    balance = _bracket_balance(head)
    cursor.pos += 1
    while not cursor.done() and balance > 0:
        stripped = cursor.line().strip()
        if not stripped:
            break
        parts.append(stripped)
        balance += _bracket_balance(stripped)
        cursor.pos += 1
    return "\n".join(parts)


def _take_balanced(cursor: _Cursor, text: str) -> str:
    """The current line (given as ``text``) and, while its brackets are open, the lines that close them,
    joined by newlines as ``_take_bracketed`` does: a hint or lemma list wrapped inside a chain stays one
    piece of the chain. Leaves the cursor after the last line taken."""
    parts = [text]
    balance = _bracket_balance(text)
    cursor.pos += 1
    while not cursor.done() and balance > 0 and cursor.line().strip():
        parts.append(cursor.line().strip())
        balance += _bracket_balance(cursor.line())
        cursor.pos += 1
    return "\n".join(parts)


def _take_chain(cursor: _Cursor, head: str, indent: int) -> str:
    """Join a ``<;>`` chain written over several lines into one tactic.

    Two layouts occur: lines ending in ``<;>`` (DeepSeek) and lines starting with ``<;> `` (Goedel), with
    stray bare ``<;>`` lines in between. The rules are heuristic; the golden tests are the specification.
    """
    chain = head if head.endswith("<;>") else head + " <;>"
    cursor.pos += 1
    lines = cursor.lines
    while not cursor.done():
        stripped = cursor.line().strip()
        if not stripped:
            break
        if stripped == "<;>":
            if _chain_continues_at(lines, cursor.pos + 1):
                cursor.pos += 1
                continue
            after = cursor.pos + 1
            more_at_same_level = (
                after < len(lines)
                and bool(lines[after].strip())
                and not lines[after].strip().startswith("<;>")
                and _indent(lines[after]) >= indent
            )
            if more_at_same_level and chain.endswith("<;>"):
                cursor.pos += 1
                continue
            break
        if stripped.startswith("<;> "):
            chain += " " + _take_balanced(cursor, stripped[len("<;> ") :])
            if _chain_continues_at(lines, cursor.pos):
                chain += " <;>"
                continue
            break
        if _indent(cursor.line()) < indent:
            break
        joined = _take_balanced(cursor, stripped)
        chain += " " + joined
        if not _ends_with_chain(joined):
            break
    # The " <;>" added up front stays only if something was joined after it.
    if chain.endswith(" <;>") and "<;>" not in chain[: -len(" <;>")]:
        chain = chain[: -len(" <;>")]
    return chain.strip()


def _starts_chain_of_its_own(tactic: str) -> bool:
    """A piece that ends in an open ``with`` (``cases n with`` before ``| zero =>`` arms the splitter does
    not join) cannot take a ``<;>`` continuation at its end; it is left as it was."""
    return tactic.rstrip().endswith(" with")


_BLOCK_COMBINATORS = frozenset({"all_goals", "any_goals", "try", "repeat", "focus"})


def _body_follows(cursor: _Cursor, indent: int) -> bool:
    following = cursor.next_nonblank(cursor.pos + 1)
    return following is not None and _indent(cursor.lines[following]) > indent


def _take_one(cursor: _Cursor, *, decompose: bool) -> list[str]:
    """The tactic that starts at the cursor's line (a block, a calc, a bracketed or chained tactic, or one
    line); a decomposed typed ``have`` gives its subgoal and then its body's tactics."""
    raw = cursor.line()
    stripped = _strip_bullet(raw.strip())
    indent = _indent(raw)
    lines = cursor.lines
    if _is_calc(stripped):
        return [_take_calc(cursor, stripped, indent)]
    if stripped in _BLOCK_COMBINATORS and _body_follows(cursor, indent):
        # `all_goals` alone on its line runs the indented tactics below it, as one block
        return [_block_tactic(stripped, _take_block_body(cursor, indent))]
    if stripped in _BLOCK_COMBINATORS and cursor.next_nonblank(cursor.pos + 1) is not None:
        # a bare `all_goals` whose next line is not deeper: Lean's tactic sequence after it starts at that
        # line and takes every later line at that line's column, so the rest of the block is its body
        following = cursor.next_nonblank(cursor.pos + 1)
        return [_block_tactic(stripped, _take_block_body(cursor, _indent(lines[following]) - 1))]
    if _is_block_opener(stripped) or stripped.startswith("match "):
        body = _take_block_body(cursor, indent)
        subgoal = _typed_have_subgoal(stripped) if decompose and len(body) > 1 else None
        if subgoal is not None:
            # Only the outermost typed have/let is decomposed; inner blocks stay whole
            # (docs/policy.md#whole-proof-splitting).
            return [subgoal, *_split_structured("\n".join(body), decompose=False)]
        return [_block_tactic(stripped, body)]
    if _bracket_balance(stripped) > 0:
        bracketed = _take_bracketed(cursor, stripped)
        if _chain_continues_at(lines, cursor.pos):
            # a wrapped hint list followed by `<;> tac` lines is one chain, as Lean reads it
            cursor.pos -= 1
            bracketed = _take_chain(cursor, bracketed, indent)
        return [bracketed]
    if _ends_with_chain(stripped) or _chain_continues_at(lines, cursor.pos + 1):
        return [_take_chain(cursor, stripped, indent)]
    cursor.pos += 1
    return [stripped]


def _split_structured(text: str, *, decompose: bool) -> list[str]:
    lines = _drop_comments(_split_lines(_strip_code_fence(text.rstrip())))
    cursor = _Cursor(lines)
    tactics: list[str] = []
    saw_declaration = False

    while not cursor.done():
        raw = cursor.line()
        stripped = _strip_bullet(raw.strip())
        if stripped.startswith("<;>") and tactics and not _starts_chain_of_its_own(tactics[-1]):
            # `<;>` cannot begin a tactic, so Lean reads a line starting with it as the continuation of the
            # tactic before: `t` then `<;> s` (or a bare `<;>` line, then `s`) is the one tactic `t <;> s`.
            rest = stripped[len("<;>") :].strip()
            if rest:
                cursor.lines[cursor.pos] = " " * _indent(raw) + rest
            else:
                following = cursor.next_nonblank(cursor.pos + 1)
                if following is None:
                    break
                cursor.pos = following
            continuation = _take_one(cursor, decompose=False)
            if continuation:
                tactics[-1] = f"{tactics[-1]} <;> {continuation[0]}"
                tactics.extend(continuation[1:])
            continue
        if stripped in _JUNK_TACTICS:
            cursor.pos += 1
            continue
        if _is_declaration(stripped):
            saw_declaration = True
            inline = _take_declaration(cursor)
            if inline:
                tactics.append(inline)
            continue
        tactics.extend(_take_one(cursor, decompose=decompose))

    if saw_declaration and not tactics:
        return []
    cleaned = (_strip_bullet(tactic) for tactic in tactics)
    return [tactic for tactic in cleaned if tactic.strip() not in _JUNK_TACTICS]


def extract_proof_tactics(text: str) -> list[str]:
    """Split a whole-proof completion into the tactics to replay, in order.

    Code fences, comments and ``theorem``/``lemma``/``example`` headers are skipped. Block openers keep
    their bodies, except that the outermost *typed* ``have``/``let`` with a multi-line body becomes the
    bare ``have h : T`` followed by its body's tactics. ``calc`` steps, ``match`` arms, unbalanced
    brackets and ``<;>`` chains are joined into one tactic; focus bullets are stripped and dangling
    ``<;>``/``·``/``.`` dropped.

    Indentation is read as written. A completion of a primed prompt starts mid-line, so callers that split
    completions should use ``prover.policy.candidates``, which restores the prompt's indentation first.
    """
    return _split_structured(text, decompose=True)
