"""Tactics of minilean: the script parser, the goal-list engine and the tactic modules that register themselves."""

from . import (  # noqa: F401  (registration)
    apply,
    calc,
    casts,
    context,
    conv,
    debug,
    decision,
    field_simp,
    induction,
    rewrite,
    ring,
    simplify,
    structural,
)
from .engine import MULTI_GOAL_TACTICS, TACTICS, Context, Interrupted, TacticError, run_seq
from .script import parse_script

__all__ = ["Context", "Interrupted", "TacticError", "TACTICS", "MULTI_GOAL_TACTICS", "parse_script", "run_seq"]
