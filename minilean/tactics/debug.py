"""Tactics that make minilean misbehave on purpose, so pool tests can exercise timeouts, memory caps and crashes.

- `sleep N`          Lean's own tactic: waits N milliseconds, honouring the REPL `timeout` option (interrupt).
- `minilean_sleep N` waits N seconds and ignores the `timeout` option, like a tactic that never checks for
                     cancellation: only a client-side watchdog gets the process back.
- `minilean_alloc M` allocates M megabytes (touched, so resident) and keeps them until the process ends.
- `minilean_crash [C]` exits the process at once with status C (default 1) without answering.
"""

from __future__ import annotations

import os
import sys
import time

from ..goals import Goal
from .engine import Context, Interrupted, TacticError, tactic
from .script import Atomic

_HELD: list[bytearray] = []


def _number(node: Atomic, default: float | None = None) -> float:
    text = node.rest.strip()
    if not text and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise TacticError(f"{node.name}: expected a number, got '{text}'") from None
    if value < 0:
        raise TacticError(f"{node.name}: expected a non-negative number")
    return value


@tactic("sleep")
def sleep_ms(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    ms = _number(node)
    if ctx.timeout_ms:
        left = ctx.timeout_ms - (time.monotonic() - ctx.started) * 1000
        if ms > left:
            time.sleep(max(0.0, left) / 1000)
            raise Interrupted()
    time.sleep(ms / 1000)
    return [goal]


@tactic("minilean_sleep")
def sleep_seconds(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    time.sleep(_number(node))
    return [goal]


@tactic("minilean_alloc")
def allocate(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    size = int(_number(node) * 1024 * 1024)
    block = bytearray(size)
    # touch every page so the memory is resident, not just reserved
    for i in range(0, size, 4096):
        block[i] = 1
    _HELD.append(block)
    return [goal]


@tactic("minilean_crash")
def crash(goal: Goal, node: Atomic, ctx: Context) -> list[Goal]:
    code = int(_number(node, default=1))
    sys.stdout.flush()
    os._exit(code)
