"""Rejecting proofs that cheat: ``sorry``, ``admit`` and ``cheat`` as whole words.

Lean accepts a proof that uses ``sorry`` (it only warns), so such a completion could be counted as proved
(docs/policy.md#banned-words). A word is delimited by characters other than ASCII letters, digits and ``_``, so an
identifier such as ``sorry_lemma`` is not a match while ``exact sorry`` and ``(sorry)`` are.
"""

from __future__ import annotations

import re

BANNED_WORDS = ("sorry", "admit", "cheat")

_BANNED = re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(BANNED_WORDS) + r")(?![A-Za-z0-9_])")


def contains_banned_word(text: str) -> bool:
    """Whether ``text`` uses one of ``BANNED_WORDS`` as a word."""
    return _BANNED.search(text) is not None
