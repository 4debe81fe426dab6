"""Shared helpers of the minilean tests: run a whole declaration through minilean's frontend in-process."""

from __future__ import annotations

from minilean.frontend import check_declaration


def proves(statement: str, proof: str, solver_ms: int = 5000) -> bool:
    """Whether minilean accepts `theorem t <statement> := by <proof>` with no error and no sorry."""
    messages, _, used_sorry = check_declaration(f"theorem t {statement} := by\n  {proof}", solver_ms=solver_ms)
    return not used_sorry and not any(sev == "error" for sev, _, _ in messages)
