"""Typed Pantograph commands over any request function (a worker's, in practice).

The client knows the wire shapes and what the answers mean; it knows nothing about processes.
User text (statements, tactics, proof scripts) goes through the safety filter here, the last Python
code before the wire, so nothing reaches a REPL unchecked whichever path called.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from prover.lean.errors import ReplError
from prover.lean.goals import Goal, goals_from_wire
from prover.lean.results import (
    CheckResult,
    StartResult,
    TacticResult,
    classify_check,
    classify_tactic,
    error_fields,
    is_error_object,
)
from prover.lean.safety import check_proof_text, check_statement, check_tactic

RequestFn = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]

CHECK_THEOREM_NAME = "burnqed_check"


# Built once: `json.dumps` with non-default arguments constructs a new encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_request(command: str, payload: Mapping[str, Any]) -> bytes:
    """One request line in envelope form; non-ASCII stays raw UTF-8 as Lean prints it."""
    return (_ENCODER.encode({"cmd": command, "payload": payload}) + "\n").encode()


def proof_file(statement: str, proof_text: str, *, name: str = CHECK_THEOREM_NAME) -> str:
    """The Lean file that re-checks a found proof: the statement as a theorem, the script as its `by` block."""
    script = proof_text.strip("\n")
    stripped = script.lstrip()
    if stripped.startswith("by") and (len(stripped) == 2 or stripped[2] in " \n"):
        script = stripped[2:].strip("\n")
    lines = script.split("\n")
    # Keep relative indentation (nested blocks) while moving the whole script under `by`.
    indent = min((len(line) - len(line.lstrip(" ")) for line in lines if line.strip()), default=0)
    body = "\n".join(("  " + line[indent:]) if line.strip() else "" for line in lines)
    return f"theorem {name} : {statement} := by\n{body}\n"


class PantographClient:
    """Pantograph commands as coroutines. `request(cmd, payload)` must return the decoded reply."""

    def __init__(self, request: RequestFn, *, capabilities: dict[str, bool] | None = None) -> None:
        self._request = request
        # What this REPL turned out to support, shared by every client of one worker (e.g. goal.print).
        self.capabilities = capabilities if capabilities is not None else {}

    async def _call(self, command: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        reply = await self._request(command, payload)
        if is_error_object(reply):
            kind, desc = error_fields(reply)
            raise ReplError(command=command, kind=kind, desc=desc)
        return reply

    async def start(self, *, expr: str | None = None, copy_from: str | None = None) -> StartResult:
        """`goal.start` from a statement (a closed type) or from an existing theorem's name."""
        if (expr is None) == (copy_from is None):
            raise ValueError("start: give exactly one of expr= and copy_from=")
        if expr is not None:
            payload: dict[str, Any] = {"expr": check_statement(expr)}
        else:
            payload = {"copyFrom": check_statement(str(copy_from), name="copy_from")}
        reply = await self._call("goal.start", payload)
        state_id = reply.get("stateId")
        if not isinstance(state_id, int):
            raise ReplError(command="goal.start", kind="protocol", desc=f"no integer stateId in {reply!r}")
        goals = await self._root_goals(state_id)
        if not goals and expr is not None:
            # What PyPantograph does when it cannot ask: the statement itself is the one goal.
            goals = (Goal(target=expr),)
        root = reply.get("root")
        return StartResult(state_id=state_id, root=root if isinstance(root, str) else None, goals=goals)

    async def _root_goals(self, state_id: int) -> tuple[Goal, ...]:
        if self.capabilities.get("goal.print") is False:
            return ()
        try:
            goals = await self.print_goals(state_id)
        except ReplError as exc:
            if exc.kind == "command":  # an older REPL or a stand-in without goal.print
                self.capabilities["goal.print"] = False
                return ()
            raise
        self.capabilities["goal.print"] = True
        return goals

    async def print_goals(self, state_id: int) -> tuple[Goal, ...]:
        reply = await self._call("goal.print", {"stateId": state_id, "goals": True})
        return goals_from_wire(reply.get("goals", []), "goal.print.goals")

    async def tactic(self, state_id: int, tactic: str, *, goal_id: int | None = None) -> TacticResult:
        """Run one tactic on a state; failures are results, not exceptions (the state stays usable)."""
        payload: dict[str, Any] = {"stateId": state_id, "tactic": check_tactic(tactic)}
        if goal_id is not None:
            payload["goalId"] = goal_id
        return classify_tactic(await self._request("goal.tactic", payload))

    async def delete(self, state_ids: Iterable[int]) -> None:
        ids = list(state_ids)
        if ids:
            await self._call("goal.delete", {"stateIds": ids})

    async def reset(self) -> int:
        """Drop every state (ids restart at 0); returns how many there were."""
        return int((await self._call("reset", {})).get("nGoals", 0))

    async def stat(self) -> int:
        """Number of stored goal states."""
        return int((await self._call("stat", {})).get("nGoals", 0))

    async def set_options(self, options: Mapping[str, Any]) -> None:
        await self._call("options.set", dict(options))

    async def process_file(
        self, file: str, *, inherit_env: bool = False, sorrys: bool = False, read_header: bool = False
    ) -> dict[str, Any]:
        """`frontend.process` on inline source; every Bool is required on the wire since 0.3.0."""
        payload = {
            "file": file,
            "readHeader": read_header,
            "inheritEnv": inherit_env,
            "sorrys": sorrys,
            "typeErrorsAsGoals": False,
            "newConstants": False,
        }
        return await self._request("frontend.process", payload)

    async def check_proof(self, statement: str, proof_text: str) -> CheckResult:
        """Elaborate `theorem _ : statement := by proof_text` as one file and judge the messages."""
        check_statement(statement)
        check_proof_text(proof_text)
        file = proof_file(statement, proof_text)
        return classify_check(await self.process_file(file), file=file)
