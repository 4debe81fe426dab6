"""The sorry filter: a proof that leans on `sorry`, `admit` or `cheat` proves nothing and poisons training data.

Whole words only (`sorry_lemma` or `admits` are fine), and Lean comments do not count.
"""

import re

_ESCAPE_HATCH = re.compile(r"(?<![\w.'])(sorry|admit|cheat)(?![\w'])")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/-.*?-/", re.DOTALL)


def strip_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))


def escape_hatch(text: str) -> str | None:
    """The first of `sorry` / `admit` / `cheat` used as a word in `text`, ignoring comments; None if clean."""
    match = _ESCAPE_HATCH.search(strip_comments(text))
    return match.group(1) if match else None
