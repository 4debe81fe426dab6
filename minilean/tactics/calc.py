"""calc chains (docs/minilean-lean-facts.md, structural tactics).

`calc a = b := proof` followed by `_ R c := proof` lines: each step is elaborated with `_` standing for the
previous right-hand side and proved in the goal's context (a `by` block or a proof term); the relations compose
as Lean's `Trans` instances do (= with R gives R, < with ≤ gives <, ≤ with ≤ gives ≤, …), and the composed
statement must be the goal.
"""

from __future__ import annotations

from ..goals import Goal
from ..matching import same_prop
from ..terms import Cmp, pretty
from .engine import Context, TacticError, tactic
from .script import Atomic, split_top
from .structural import parse_prop_in, prove_term

_COMPOSE = {("=", "="): "=", ("≤", "≤"): "≤", ("<", "<"): "<", ("<", "≤"): "<", ("≤", "<"): "<",
            ("≥", "≥"): "≥", (">", ">"): ">", (">", "≥"): ">", ("≥", ">"): ">"}


def _compose(a: str, b: str) -> str | None:
    if a == "=":
        return b
    if b == "=":
        return a
    return _COMPOSE.get((a, b))


def _split_step(text: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return text[:i].strip(), text[i + 2:].strip()
    raise TacticError(f"calc: expected `term := proof` in step\n  {text}")


def _steps(text: str) -> list[str]:
    """Steps start at the beginning of a line with `_` or are the first line; other lines continue a step."""
    steps: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if not steps or line.strip().startswith("_"):
            steps.append(line.strip())
        else:
            steps[-1] += " " + line.strip()
    return steps


@tactic("calc")
def calc(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    steps = _steps(node.rest)
    if not steps:
        raise TacticError("calc: expected steps")
    first_lhs = None
    previous_rhs_text = ""
    relation = None
    last_rhs = None
    for step in steps:
        claim_text, proof_text = _split_step(step)
        if claim_text.startswith("_"):
            if not previous_rhs_text:
                raise TacticError("calc: the first step cannot start with `_`")
            claim_text = f"({previous_rhs_text})" + claim_text[1:]
        claim = parse_prop_in(goal, claim_text)
        if not isinstance(claim, Cmp) or claim.op not in ("=", "<", "≤", ">", "≥"):
            raise TacticError(f"calc: a step must be a relation\n  {claim_text}")
        prove_term(goal, proof_text, ctx, claim)
        if first_lhs is None:
            first_lhs, relation = claim.lhs, claim.op
        else:
            relation = _compose(relation, claim.op)
            if relation is None:
                raise TacticError("calc: these relations do not compose")
        last_rhs = claim.rhs
        previous_rhs_text = _rhs_text(claim_text)
    result = Cmp(relation, first_lhs, last_rhs)
    if not same_prop(result, goal.target):
        names = goal.display_names()
        raise TacticError(f"invalid 'calc' step, the chain proves\n  {pretty(result, names)}\nbut the goal is\n  "
                          f"{pretty(goal.target, names)}")
    return []


def _rhs_text(claim_text: str) -> str:
    for op in (" = ", " ≤ ", " < ", " ≥ ", " > "):
        parts = split_top(claim_text, op)
        if len(parts) >= 2:
            return op.join(parts[1:]).strip()
    raise TacticError(f"calc: cannot read the right-hand side of\n  {claim_text}")
