"""Refuse Lean command syntax in statements and tactics before they reach any REPL process.

A statement reaches Lean only as a `goal.start` expression and a tactic only as `goal.tactic`, but the
whole-proof check feeds text to `frontend.process`, where a stray command (`#eval`, `axiom`, `run_cmd`,
`set_option debug.skipKernelTC`...) would run code in the process or make a false proof pass. The scan
is deliberately blunt: it looks at raw text, comments and strings included, because a filter that
parses comments differently from Lean can be tricked; a refused harmless word costs one candidate,
a missed command costs soundness.
"""

from __future__ import annotations

import re
import unicodedata

from prover.lean.errors import UnsafeInputError

# Words that start or modify a top-level command, or give access to code execution and meta-programming.
# A proof needs none of them; each maps to the reason shown in the error.
FORBIDDEN_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["import", "run_cmd", "run_tac", "run_elab", "run_meta", "elab", "elab_rules", "macro", "macro_rules",
         "syntax", "declare_syntax_cat", "notation", "infix", "infixl", "infixr", "postfix",
         "initialize", "builtin_initialize"],
        "Lean command that runs or defines code",
    ),
    **dict.fromkeys(
        ["axiom", "theorem", "lemma", "def", "example", "instance", "abbrev", "opaque", "structure", "class",
         "inductive", "namespace", "section", "universe", "variable", "attribute", "deriving", "mutual",
         "export", "noncomputable", "private", "protected", "partial"],
        "top-level declaration or scope command",
    ),
    **dict.fromkeys(
        ["unsafe", "implemented_by", "extern", "unsafeCast", "unsafeIO", "unsafeBaseIO", "ofReduceBool",
         "trustCompiler"],
        "unsafe code or an axiom that trusts compiled code",
    ),
    "native_decide": "trusts compiled code (Lean.ofReduceBool), not the kernel",
    "IO": "IO actions",
    "EIO": "IO actions",
    "BaseIO": "IO actions",
    "System": "operating-system access",
    "Lean": "meta-programming access (Lean.Elab, Lean.Meta ...)",
}

# `set_option NAME VALUE in tac` is fine for resource limits; anything else can switch off checks.
ALLOWED_OPTIONS = frozenset({"maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats", "synthInstance.maxSize"})

# Lean identifiers: letters (Unicode included), digits, `_`, `'`, `!`, `?`, joined by dots.
_ATOM = r"[^\W\d][\w'!?]*"
_IDENT = re.compile(rf"(?<![\w'.!?])(?:{_ATOM})(?:\.(?:{_ATOM}|\d+))*")
_HASH_COMMAND = re.compile(r"#[A-Za-z_]\w*")
_SET_OPTION = re.compile(rf"set_option\s+({_ATOM}(?:\.{_ATOM})*)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

MAX_TEXT_CHARS = 100_000


def _refuse(where: str, text: str, token: str, position: int, reason: str) -> None:
    raise UnsafeInputError(where=where, token=token, position=position, reason=reason, text=text)


def check_lean_text(text: str, *, where: str) -> str:
    """Return `text` unchanged if it holds no Lean command syntax, else raise `UnsafeInputError`.

    `where` names the input in the error (e.g. "statement of mathd_algebra_10", "tactic").
    """
    if not isinstance(text, str):
        raise TypeError(f"{where}: expected a string, got {type(text).__name__}")
    if text in _ACCEPTED:
        return text
    if not text.isascii():
        # Lean reads neither zero-width nor bidirectional-override characters as anything a proof needs, and they
        # hide what a text says from the people reading it; fullwidth and other compatibility forms (＃eval) are
        # folded so the scan sees the command they spell.
        invisible = _invisible(text)
        if invisible is not None:
            _refuse(where, text, text[invisible], invisible,
                    f"invisible Unicode character U+{ord(text[invisible]):04X} ({unicodedata.name(text[invisible], 'format')})")
        folded = unicodedata.normalize("NFKC", text)
        if folded != text and not _plainly_safe(folded):
            _scan(folded, where)
    if not _plainly_safe(text):
        _scan(text, where)
    if len(text) <= _CACHE_TEXT_CHARS:
        if len(_ACCEPTED) >= _CACHE_ENTRIES:
            _ACCEPTED.clear()
        _ACCEPTED.add(text)
    return text


# A search proposes the same tactics over and over; remembering texts already accepted (never refused
# ones: those raise every time) takes the scan off the per-request path. The verdict does not depend on
# `where`, only the error message does.
_ACCEPTED: set[str] = set()
_CACHE_ENTRIES = 65_536
_CACHE_TEXT_CHARS = 512


def _plainly_safe(text: str) -> bool:
    """True when `_scan` cannot refuse `text`, decided with C-speed tests only.

    Every identifier part `_scan` could refuse is also a whole match of `_ATOM_RUN` (parts are bounded by
    dots or by characters that cannot continue an atom), so a text none of whose atom runs is a forbidden
    word, with no `#`, no `set_option` and no control character, passes `_scan` too. The many statements of
    a dataset import and most tactics skip the identifier scan this way; the rest still get it.
    """
    return (
        0 < len(text) <= MAX_TEXT_CHARS
        and bool(text.strip())
        and "#" not in text
        and "set_option" not in text
        and _FORBIDDEN.isdisjoint(_ATOM_RUN.findall(text))
        and _CONTROL.search(text) is None
    )


def _invisible(text: str) -> int | None:
    """Position of the first Unicode format (Cf) or control (Cc, tab and newlines aside) character, or None."""
    for position, char in enumerate(text):
        if not char.isascii() and unicodedata.category(char) in ("Cf", "Cc"):
            return position
    return None


def name_error(name: object, *, max_chars: int = 200) -> str | None:
    """Why `name` (of a theorem, dataset or run) cannot be stored, or None: names are shown everywhere and typed
    into configs, so they hold no NUL, control or invisible format characters (which make `a\u200b-b` look like
    `a-b`) and stay short."""
    if not isinstance(name, str):
        return "must be text"
    if len(name) > max_chars:
        return f"must be at most {max_chars} characters, got {len(name)}"
    bad = next((i for i, c in enumerate(name) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        return f"must not contain control or invisible characters (U+{ord(name[bad]):04X} at character {bad})"
    return None


_ATOM_RUN = re.compile(_ATOM)
_FORBIDDEN = frozenset(FORBIDDEN_WORDS)


def _scan(text: str, where: str) -> None:
    if not text.strip():
        _refuse(where, text, text, 0, "empty text")
    if len(text) > MAX_TEXT_CHARS:
        _refuse(where, text, text[:20], 0, f"longer than {MAX_TEXT_CHARS} characters")
    control = _CONTROL.search(text)
    if control:
        _refuse(where, text, control.group(0), control.start(), "control character")
    command = _HASH_COMMAND.search(text)
    if command:
        _refuse(where, text, command.group(0), command.start(), "Lean `#` command")
    for option in _SET_OPTION.finditer(text):
        name = option.group(1)
        if name not in ALLOWED_OPTIONS:
            allowed = ", ".join(sorted(ALLOWED_OPTIONS))
            _refuse(where, text, f"set_option {name}", option.start(), f"only these options may be set: {allowed}")
    for ident in _IDENT.finditer(text):
        for part in ident.group(0).split("."):
            reason = FORBIDDEN_WORDS.get(part)
            if reason is not None:
                _refuse(where, text, part, ident.start() + ident.group(0).find(part), reason)


def check_statement(statement: str, *, name: str | None = None) -> str:
    """Refuse a theorem statement (a `goal.start` expression) that carries command syntax."""
    where = f"statement of {name}" if name else "statement"
    text = check_lean_text(statement, where=where)
    if ":=" in text and ":=" in _strip_let_assignments(text):
        _refuse(where, text, ":=", text.index(":="), "a statement is a type, not a definition with a body")
    return text


def check_tactic(tactic: str) -> str:
    """Refuse a tactic that carries command syntax."""
    return check_lean_text(tactic, where="tactic")


def check_proof_text(proof: str) -> str:
    """Refuse a whole tactic script (as sent to the final check) that carries command syntax."""
    return check_lean_text(proof, where="proof text")


_LET_ASSIGNMENT = re.compile(r"\b(?:let|have|set)\b[^:=]*(?::[^:=]*)?:=")


def _strip_let_assignments(text: str) -> str:
    # `let x := e; body` and term-level `have` are legitimate inside a statement's type.
    return _LET_ASSIGNMENT.sub("", text)
