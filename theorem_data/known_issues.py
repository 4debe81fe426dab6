"""Statements known to be wrong upstream (data/README.md, caveat 1): flagged on import, never silently trusted.

The seven v1 miniF2F test statements below are false or mis-stated in the files taken before the
yangky11/miniF2F-lean4 fixes of 2026-02-28. A statement is flagged when its name is listed and its text is
not the corrected one from `data/benchmarks/minif2f_lean4_v4.24.jsonl`.
"""

import json
from functools import cache
from pathlib import Path

from .statements import closed_statement, normalise_whitespace

KNOWN_WRONG = {
    "aime_1994_p3": "the `x` in h0 is free (missing ∀ x)",
    "mathd_numbertheory_618": "missing hypothesis n > 0",
    "amc12a_2020_p10": "ℕ division makes the statement wrong",
    "amc12a_2019_p12": "ℕ division makes the statement wrong",
    "amc12a_2021_p25": "mis-stated upstream (fixed in miniF2F-lean4 2026-02)",
    "algebra_ineq_nto1onlt2m1on": "`<` where it should be `≤`",
    "imo_1982_p1": "ℕ subtraction truncates, so the hypothesis does not say what the problem says",
}

CORRECTED_FILE = Path(__file__).resolve().parents[1] / "data" / "benchmarks" / "minif2f_lean4_v4.24.jsonl"


@cache
def _corrected_statements() -> dict[str, str]:
    if not CORRECTED_FILE.exists():
        return {}
    corrected = {}
    for raw in CORRECTED_FILE.read_text(encoding="utf-8").splitlines():
        record = json.loads(raw)
        if record["name"] in KNOWN_WRONG:
            corrected[record["name"]] = closed_statement(record["formal_statement"])
    return corrected


def known_issue(name: str, statement: str) -> str:
    """Why this statement is known to be wrong, or "" when it is fine (or is the corrected version)."""
    reason = KNOWN_WRONG.get(name)
    if not reason:
        return ""
    if _corrected_statements().get(name) == normalise_whitespace(statement):
        return ""
    return f"listed as wrong upstream ({reason}) and this text is not the corrected minif2f-lean4 v4.24 version"
