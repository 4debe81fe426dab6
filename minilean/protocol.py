"""The Pantograph REPL protocol (version 0.3.4, the one docs/lean.md#framing describes):
JSON lines on stdin/stdout, `ready.` first, one compact sorted-key JSON object per request, error objects
`{"desc": …, "error": kind}`. Command handlers live here; tactics, parsing and checking live elsewhere.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from .elab import ElabError, Elaborator, fresh_id
from .goals import Goal
from .parser import ParseError, parse_term
from .tactics import Context, Interrupted, TacticError, parse_script, run_seq
from .terms import pretty
from .theorems import load_theorems

VERSION = "0.3.4"

DEFAULT_OPTIONS: dict[str, Any] = {
    "automaticMode": True,
    "noRepeat": False,
    "printAuxDecls": False,
    "printDependentMVars": False,
    "printExprAST": False,
    "printExprPretty": True,
    "printImplementationDetailHyps": False,
    "printJsonPretty": False,
    "timeout": 0,
}


def error(kind: str, desc: str) -> dict:
    return {"desc": desc, "error": kind}


def message(text: str, severity: str = "error", file_name: str = "<Pantograph>", pos=(0, 0), end=None,
            kind: str = "[anonymous]") -> dict:
    """A Lean `SerialMessage` as Pantograph 0.3.4 sends it."""
    return {
        "caption": "",
        "data": text,
        "endPos": None if end is None else {"column": end[1], "line": end[0]},
        "fileName": file_name,
        "isSilent": False,
        "keepFullRange": False,
        "kind": kind,
        "pos": {"column": pos[1], "line": pos[0]},
        "severity": severity,
    }


class PayloadError(Exception):
    """A payload that does not decode: Pantograph answers `command` / `Unable to parse json: …`."""


def _field(payload: Any, struct: str, name: str, kind: type | tuple, required: bool = True, default=None):
    if not isinstance(payload, dict):
        raise PayloadError(f"Unable to parse json: Pantograph.Protocol.{struct}: Object expected")
    expected = {str: "String", int: "Nat", bool: "Bool", list: "Array"}
    if name not in payload or payload[name] is None:
        if required:
            label = expected.get(kind if isinstance(kind, type) else kind[0], "value")
            raise PayloadError(f"Unable to parse json: Pantograph.Protocol.{struct}.{name}: {label} expected")
        return default
    value = payload[name]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is int and ok and value < 0:
        ok = False
    if not ok:
        label = expected.get(kind if isinstance(kind, type) else kind[0], "value")
        raise PayloadError(f"Unable to parse json: Pantograph.Protocol.{struct}.{name}: {label} expected")
    return value


@dataclass
class GoalState:
    goals: tuple[Goal, ...]
    root: int
    has_sorry: bool = False


@dataclass
class Server:
    theorems_path: str | None = None
    solver_ms: int = 5000
    mathlib: int = 2025  # which Mathlib era's behaviour to follow where versions differ (see Context)
    options: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    states: dict[int, GoalState] = field(default_factory=dict)
    next_id: int = 0
    _theorems: dict[str, str] | None = None

    # -------------------------------------------------------------------------------------- plumbing
    def theorems(self) -> dict[str, str]:
        if self._theorems is None:
            self._theorems = {}
            if self.theorems_path:
                for rec in load_theorems(self.theorems_path):
                    if rec.get("statement"):
                        self._theorems[rec["name"]] = rec["statement"]
        return self._theorems

    def store(self, state: GoalState) -> int:
        sid = self.next_id
        self.states[sid] = state
        self.next_id += 1
        return sid

    def handle_line(self, line: str) -> dict:
        stripped = line.strip()
        try:
            if stripped.startswith("{"):
                envelope = json.loads(stripped)
                if not isinstance(envelope, dict) or not isinstance(envelope.get("cmd"), str):
                    return error("command", "Unable to parse json: Pantograph.Protocol.Command.cmd: String expected")
                name, payload = envelope["cmd"], envelope.get("payload")
            else:
                name, _, rest = stripped.partition(" ")
                payload = json.loads(rest) if rest.strip() else None
        except json.JSONDecodeError as exc:
            return error("command", f"offset {exc.pos}: {exc.msg}")
        handler = self.COMMANDS.get(name)
        if handler is None:
            return error("command", f"Unknown command {name}")
        try:
            return handler(self, payload)
        except PayloadError as exc:
            return error("command", str(exc))
        except Interrupted:
            return error("internal", "interrupt")
        except RecursionError:
            return error("core", "maximum recursion depth has been reached")

    # -------------------------------------------------------------------------------------- commands
    def cmd_reset(self, payload) -> dict:
        n = len(self.states)
        self.states.clear()
        self.next_id = 0
        return {"nGoals": n}

    def cmd_stat(self, payload) -> dict:
        return {"nGoals": len(self.states)}

    def cmd_options_set(self, payload) -> dict:
        if not isinstance(payload, dict):
            raise PayloadError("Unable to parse json: Pantograph.Protocol.OptionsSet: Object expected")
        for key, default in DEFAULT_OPTIONS.items():
            if key in payload and payload[key] is not None:
                self.options[key] = _field(payload, "OptionsSet", key, type(default))
        return {}

    def cmd_options_print(self, payload) -> dict:
        return dict(self.options)

    def cmd_goal_start(self, payload) -> dict:
        expr = _field(payload, "GoalStart", "expr", str, required=False)
        copy_from = _field(payload, "GoalStart", "copyFrom", str, required=False)
        if (expr is None) == (copy_from is None):
            return error("arguments", "Exactly one of {expr, copyFrom} must be supplied")
        if copy_from is not None:
            statement = self.theorems().get(copy_from)
            if statement is None:
                return error("index", f"Symbol not found: {copy_from}")
            expr = statement
        try:
            target = Elaborator().prop(parse_term(expr))
        except ParseError as exc:
            return error("parsing", exc.render("<stdin>"))
        except ElabError as exc:
            return error("elab", exc.message)
        goal = Goal(target)
        sid = self.store(GoalState((goal,), goal.gid))
        return {"root": f"_uniq.{goal.gid}", "stateId": sid}

    def cmd_goal_tactic(self, payload) -> dict:
        sid = _field(payload, "GoalTactic", "stateId", int)
        goal_id = _field(payload, "GoalTactic", "goalId", int, required=False)
        actions = {k: payload.get(k) for k in ("tactic", "mode", "expr", "have", "let", "draft")
                   if payload.get(k) is not None}
        if len(actions) != 1:
            return error("operation", "Exactly one of {tactic, mode, expr, have, let, draft} must be supplied")
        state = self.states.get(sid)
        if state is None:
            return error("index", f"Invalid state index {sid}")
        goals = list(state.goals)
        if goal_id is not None:
            if goal_id >= len(goals):
                return error("index", f"Invalid goal index {goal_id}")
            goals.insert(0, goals.pop(goal_id))  # automatic mode "prefer": that goal acts first
        kind, text = next(iter(actions.items()))
        if not isinstance(text, str):
            raise PayloadError(f"Unable to parse json: Pantograph.Protocol.GoalTactic.{kind}: String expected")
        if kind == "mode":
            if text not in ("tactic", "conv", "calc"):
                return error("operation", f"Invalid mode {text}")
            return error("operation", f"minilean does not model the {text} fragment")
        if kind in ("let", "draft"):
            return error("operation", f"minilean does not model goal.tactic {kind}")
        if kind == "expr":
            text = f"exact {text}"
        elif kind == "have":
            binder = payload.get("binderName") or "this"
            text = f"have {binder} : {text}"
        if not goals:
            return error("exception", "no goals to be solved")
        ctx = Context(timeout_ms=int(self.options.get("timeout") or 0), solver_ms=self.solver_ms,
                      mathlib=self.mathlib)
        try:
            script = parse_script(text)
            if not script:
                raise ParseError("expected tactic", 1, 0)
            new_goals = run_seq(script, goals, ctx)
        except ParseError as exc:
            return {"hasSorry": False, "hasUnsafe": False, "parseError": exc.render("<Pantograph>")}
        except TacticError as exc:
            return {"hasSorry": False, "hasUnsafe": False, "messages": [message(exc.message)]}
        new_sid = self.store(GoalState(tuple(new_goals), state.root, state.has_sorry or ctx.has_sorry))
        return {
            "goals": [g.to_json(self.options) for g in new_goals],
            "hasSorry": ctx.has_sorry,
            "hasUnsafe": False,
            "messages": [message(text, severity) for severity, text in ctx.messages],
            "nextStateId": new_sid,
        }

    def cmd_goal_delete(self, payload) -> dict:
        ids = _field(payload, "GoalDelete", "stateIds", list)
        for sid in ids:
            if isinstance(sid, int) and not isinstance(sid, bool):
                self.states.pop(sid, None)
            else:
                raise PayloadError("Unable to parse json: Pantograph.Protocol.GoalDelete.stateIds: Nat expected")
        return {}

    def cmd_goal_print(self, payload) -> dict:
        sid = _field(payload, "GoalPrint", "stateId", int)
        state = self.states.get(sid)
        if state is None:
            return error("index", f"Invalid state index {sid}")
        out: dict[str, Any] = {
            "extraMVars": [],
            "goals": [g.to_json(self.options) for g in state.goals] if payload.get("goals") else [],
            "rootHasMVar": bool(state.goals) and False,
            "rootHasSorry": state.has_sorry,
            "rootHasUnsafe": False,
        }
        if payload.get("rootExpr") and not state.goals:
            # minilean keeps no proof terms; a finished root is reported without its text
            out["root"] = {"pp": "⋯"} if self.options.get("printExprPretty", True) else {}
        if payload.get("parentExprs"):
            out["parentExprs"] = [None]
        return out

    def cmd_expr_echo(self, payload) -> dict:
        text = _field(payload, "ExprEcho", "expr", str)
        try:
            syn = parse_term(text)
            elab = Elaborator()
            try:
                term = elab.prop(syn)
                type_pp = "Prop"
            except ElabError:
                term = Elaborator().term(syn)
                type_pp = term.ty
        except ParseError as exc:
            return error("parsing", exc.render("<stdin>"))
        except ElabError as exc:
            return error("elab", exc.message)
        return {"expr": {"pp": pretty(term)}, "type": {"pp": type_pp}}

    def cmd_env_inspect(self, payload) -> dict:
        name = _field(payload, "EnvInspect", "name", str)
        statement = self.theorems().get(name)
        if statement is None:
            return error("index", f"Symbol not found {name}")
        try:
            pp = pretty(Elaborator().prop(parse_term(statement)))
        except (ParseError, ElabError):
            pp = statement
        return {"isUnsafe": False, "type": {"pp": pp}}

    def cmd_frontend_process(self, payload) -> dict:
        from .frontend import process_file

        for flag in ("readHeader", "inheritEnv", "sorrys", "typeErrorsAsGoals", "newConstants"):
            _field(payload, "FrontendProcess", flag, bool)
        file_text = _field(payload, "FrontendProcess", "file", str, required=False)
        file_name = _field(payload, "FrontendProcess", "fileName", str, required=False)
        if (file_text is None) == (file_name is None):
            return error("arguments", "Exactly one of {fileName, file} must be supplied")
        if file_name is not None:
            try:
                with open(file_name, encoding="utf-8") as fh:
                    file_text = fh.read()
            except OSError as exc:
                return error("io", str(exc))
        ctx_timeout = int(self.options.get("timeout") or 0)
        units = process_file(file_text, sorrys=payload["sorrys"], timeout_ms=ctx_timeout,
                             solver_ms=self.solver_ms, store=self._store_unit_state, options=self.options,
                             mathlib=self.mathlib)
        return {"units": units}

    def _store_unit_state(self, goals: list[Goal]) -> int:
        return self.store(GoalState(tuple(goals), goals[0].gid if goals else fresh_id()))

    COMMANDS = {
        "reset": cmd_reset,
        "stat": cmd_stat,
        "options.set": cmd_options_set,
        "options.print": cmd_options_print,
        "goal.start": cmd_goal_start,
        "goal.tactic": cmd_goal_tactic,
        "goal.delete": cmd_goal_delete,
        "goal.print": cmd_goal_print,
        "expr.echo": cmd_expr_echo,
        "env.inspect": cmd_env_inspect,
        "frontend.process": cmd_frontend_process,
    }


def dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def serve(server: Server, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
          crash_after: int | None = None) -> int:
    """The REPL loop: `ready.`, then one response line per request; a blank line or EOF ends it."""
    stdout.write("ready.\n")
    stdout.flush()
    handled = 0
    while True:
        line = stdin.readline()
        if not line or not line.strip():
            return 0
        if crash_after is not None and handled >= crash_after:
            stdout.flush()
            import os

            os._exit(3)
        try:
            response = server.handle_line(line)
        except Exception as exc:  # never a traceback on the wire: report it as Pantograph's `main` kind
            print(f"minilean: internal error: {exc!r}", file=sys.stderr)
            response = error("main", f"internal error: {type(exc).__name__}: {exc}")
        stdout.write(dumps(response) + "\n")
        stdout.flush()
        handled += 1
