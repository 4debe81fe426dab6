"""Lean 4.8 -> 4.27 renames applied to a tactic just before it is sent to Lean (docs/search.md#tactic-renames).

Models were trained on Mathlib from the Lean 4.8/4.9 era; Pantograph runs 4.27. The replay cache keys on
the tactic as generated, so this runs in the verifier adapter, after the cache lookup.
"""

from __future__ import annotations

import re

# Order matters: it is BurnQED's, and later rules see earlier results.
_RENAMES: tuple[tuple[str, str], ...] = (
    ("le_div_iff", "le_div_iff₀"),
    ("div_le_div_iff", "div_le_div_iff₀"),
    ("div_le_iff", "div_le_iff₀"),
    ("div_lt_div_iff", "div_lt_div_iff₀"),
    ("div_lt_iff", "div_lt_iff₀"),
    ("lt_div_iff", "lt_div_iff₀"),
    ("add_left_neg", "neg_add_cancel"),
    ("add_right_neg", "add_neg_cancel"),
    *((f"{b}_{op}_iff", f"{b}_{op}") for b in ("true", "false") for op in ("and", "or")),
    *((f"{op}_{b}_iff", f"{op}_{b}") for op in ("and", "or") for b in ("true", "false")),
)

# A whole identifier: not preceded by [alnum_], not followed by [alnum_] or a subscript digit (so that
# `le_div_iff₀` is never renamed a second time).
_PATTERNS = tuple((re.compile(rf"(?<![A-Za-z0-9_]){re.escape(old)}(?![A-Za-z0-9_₀-₉])"), new) for old, new in _RENAMES)
_BIG_OPERATOR_IN = re.compile(r"([∑∏]\s+\S+)\s+in\s+")


def rewrite_tactic(tactic: str) -> str:
    for pattern, new in _PATTERNS:
        tactic = pattern.sub(new, tactic)
    return _BIG_OPERATOR_IN.sub(r"\1 ∈ ", tactic)
