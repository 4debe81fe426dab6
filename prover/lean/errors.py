"""Every error the Lean layer raises, so callers can catch exactly what they mean to handle.

The split that matters to a caller: `StateLost` means the process behind a proof is gone and every
state id it handed out is void; `ReplError` means Lean answered with an error object and the
process (and its states) are still fine.
"""

from __future__ import annotations


class LeanLayerError(Exception):
    """Base class of everything `prover.lean` raises on purpose."""


class ConfigError(LeanLayerError, ValueError):
    """A `LeanConfig` field holds a value the layer cannot run with."""


class UnsafeInputError(LeanLayerError, ValueError):
    """A statement or tactic contains Lean command syntax; it never reached a process."""

    def __init__(self, *, where: str, token: str, position: int, reason: str, text: str) -> None:
        self.where = where
        self.token = token
        self.position = position
        self.reason = reason
        self.text = text
        snippet = text[max(0, position - 20) : position + len(token) + 20].replace("\n", "\\n")
        super().__init__(
            f"refused {where}: {token!r} at character {position} ({reason}); near: ...{snippet}..."
        )


class VersionMismatchError(LeanLayerError):
    """The dataset was written for another Lean version than the one the pool runs."""


class ReplStartError(LeanLayerError):
    """The REPL process did not reach its `ready.` line (bad command, import failure, timeout)."""


class ReplError(LeanLayerError):
    """Lean answered a request with an error object (`{"error": kind, "desc": text}`).

    The process is healthy and every state id is still valid.
    """

    def __init__(self, *, command: str, kind: str, desc: str) -> None:
        self.command = command
        self.kind = kind
        self.desc = desc
        super().__init__(f"{command}: Lean error {kind!r}: {desc}")


class StateLost(LeanLayerError):
    """The worker's process was killed (timeout, crash, protocol error, memory cap) and replaced.

    Every state id obtained from it before is gone; a proof has to start again.
    """

    def __init__(self, *, cause: str, detail: str, worker_id: int, stderr_tail: str = "") -> None:
        self.cause = cause
        self.detail = detail
        self.worker_id = worker_id
        self.stderr_tail = stderr_tail
        message = f"worker {worker_id} lost its states ({cause}): {detail}"
        if stderr_tail:
            message += f"\n--- last stderr lines ---\n{stderr_tail}"
        super().__init__(message)


class ReplayError(LeanLayerError):
    """A recorded tactic path did not lead to the same place when replayed on a fresh process."""


class PoolTimeout(LeanLayerError, TimeoutError):
    """No worker became free within the queue wait timeout."""


class PoolClosed(LeanLayerError):
    """The pool was closed; it hands out no more workers."""
