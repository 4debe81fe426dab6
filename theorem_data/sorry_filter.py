"""The sorry filter for data files: a proof that leans on `sorry`, `admit` or `cheat` proves nothing and
poisons training data. The words are the policy's banned words (one definition for search and data); here
Lean comments do not count, since released proofs often say "-- no sorry needed"."""

import re

from prover.policy.banned_words import BANNED_WORDS

_ESCAPE_HATCH = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(BANNED_WORDS) + r")(?![A-Za-z0-9_])")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/-.*?-/", re.DOTALL)


def strip_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))


def escape_hatch(text: str) -> str | None:
    """The first of `sorry` / `admit` / `cheat` used as a word in `text`, ignoring comments; None if clean."""
    match = _ESCAPE_HATCH.search(strip_comments(text))
    return match.group(1) if match else None
