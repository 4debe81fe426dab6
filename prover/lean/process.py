"""One REPL child process: spawn under resource limits, wait for `ready.`, exchange lines, kill and reap.

Every exit path ends with the child reaped (`await proc.wait()`) and its whole process group sent
SIGKILL, so neither zombies nor grandchildren (`lake exe repl` spawns the real REPL) outlive a worker.
stderr is drained continuously into a bounded ring buffer: an undrained pipe would block the REPL,
and the last lines are what explains a crash.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import ctypes.util
import logging
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable

import psutil

from prover.lean.config import LeanConfig
from prover.lean.errors import ReplStartError

log = logging.getLogger(__name__)

READY_LINE = b"ready."
# Goal lists of big Mathlib states run to megabytes; asyncio's default line limit is 64 KiB.
LINE_LIMIT_BYTES = 64 * 1024 * 1024
_PR_SET_PDEATHSIG = 1


_SIGNAL_HINTS = {
    signal.SIGKILL: "out of memory, or killed from outside",
    signal.SIGXCPU: "CPU time limit",
    signal.SIGSEGV: "crashed; a Lean stack overflow looks like this",
    signal.SIGABRT: "aborted; Lean panics and stack overflows look like this",
}


def describe_exit(code: int | None) -> str:
    """`exit code 3`, `killed by SIGKILL (out of memory, or killed from outside)`, or still running."""
    if code is None:
        return "exit status not yet known"
    if code >= 0:
        return f"exit code {code}"
    try:
        sig = signal.Signals(-code)
    except ValueError:
        return f"killed by signal {-code}"
    hint = _SIGNAL_HINTS.get(sig)
    return f"killed by {sig.name}" + (f" ({hint})" if hint else "")


class ProcessFailure(Exception):
    """The exchange could not complete; the process must be discarded. `cause` is a short label."""

    def __init__(self, cause: str, detail: str) -> None:
        self.cause = cause
        self.detail = detail
        super().__init__(f"{cause}: {detail}")


def _limits_setter(config: LeanConfig) -> Callable[[], None]:
    """Build the function the child runs between fork and exec (only async-signal-safe-ish work)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True) if config.kill_with_parent else None
    parent = os.getpid()
    limits: list[tuple[int, int]] = [(resource.RLIMIT_CORE, 0)]
    if config.address_space_mb is not None:
        limits.append((resource.RLIMIT_AS, config.address_space_mb * 1024 * 1024))
    if config.cpu_time_limit_s is not None:
        limits.append((resource.RLIMIT_CPU, config.cpu_time_limit_s))

    def apply() -> None:
        for which, value in limits:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else hard))
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

    return apply


class ReplProcess:
    """A started REPL (after its `ready.` line). Not safe for concurrent exchanges: the worker serialises."""

    def __init__(self, proc: asyncio.subprocess.Process, config: LeanConfig, label: str) -> None:
        self._proc = proc
        self._label = label
        self._stderr: collections.deque[str] = collections.deque(maxlen=config.stderr_lines)
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self._close_grace_s = config.close_grace_s
        self.started_at = time.monotonic()
        self._psutil: psutil.Process | None = None
        self.killed = False  # we sent SIGKILL: dead for every purpose even before the kernel is done

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    @classmethod
    async def spawn(cls, config: LeanConfig, *, label: str = "lean") -> ReplProcess:
        command = config.command
        env = {**os.environ, **config.env} if config.env else None
        try:
            proc = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=config.cwd,
                env=env,
                start_new_session=True,  # own process group: one killpg reaches every descendant
                preexec_fn=_limits_setter(config),
                limit=LINE_LIMIT_BYTES,
            )
        except (OSError, subprocess.SubprocessError) as exc:  # the latter: preexec_fn failed in the child
            raise ReplStartError(f"{label}: cannot start {command!r}: {exc}") from exc
        repl = cls(proc, config, label)
        try:
            await repl._await_ready(config.ready_timeout_s, command)
        except BaseException:
            await repl.kill()
            raise
        log.debug("%s: started pid %d", label, proc.pid)
        return repl

    async def _await_ready(self, timeout_s: float, command: list[str]) -> None:
        assert self._proc.stdout is not None
        try:
            async with asyncio.timeout(timeout_s):
                line = await self._proc.stdout.readline()
        except TimeoutError:
            raise ReplStartError(
                f"{self._label}: no 'ready.' line within {timeout_s:g} s from {command!r}"
                f"{self._stderr_suffix()}"
            ) from None
        if line.strip() == READY_LINE:
            return
        if not line:
            code = await self._wait_exit(1.0)
            # Give the stderr drain a moment to collect the REPL's last words.
            await asyncio.sleep(0.05)
            raise ReplStartError(
                f"{self._label}: {command!r} exited ({describe_exit(code)}) before 'ready.'{self._stderr_suffix()}"
            )
        raise ReplStartError(
            f"{self._label}: expected 'ready.' from {command!r}, got {line[:500]!r}{self._stderr_suffix()}"
        )

    async def _drain_stderr(self) -> None:
        stream = self._proc.stderr
        assert stream is not None
        try:
            while True:
                try:
                    line = await stream.readline()
                except ValueError:  # a line over the limit: keep what fits and go on
                    line = await stream.read(4096)
                if not line:
                    return
                text = line.decode("utf-8", "replace").rstrip("\n")
                self._stderr.append(text)
                log.debug("%s stderr: %s", self._label, text)
        except asyncio.CancelledError:
            return

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def _stderr_suffix(self) -> str:
        tail = self.stderr_tail()
        return f"\n--- stderr ---\n{tail}" if tail else ""

    async def exchange(self, line: bytes, timeout_s: float) -> bytes:
        """Send one request line, return one response line. Raises `ProcessFailure` on any breakage.

        The watchdog kills the process group when the reply is late; the read then ends on EOF.
        """
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        self._arm_watchdog(timeout_s)
        try:
            stdin.write(line)
            if stdin.transport.get_write_buffer_size():  # only a REPL that stopped reading fills the pipe
                await stdin.drain()
            response = await stdout.readline()
        except (BrokenPipeError, ConnectionResetError) as exc:
            if self._timed_out is None:
                code = await self._wait_exit(1.0)
                raise ProcessFailure("crash", f"pipe closed ({exc.__class__.__name__}), {describe_exit(code)}") from None
            response = b""
        except (ValueError, asyncio.LimitOverrunError) as exc:
            raise ProcessFailure("protocol", f"reply line over {LINE_LIMIT_BYTES} bytes: {exc}") from None
        finally:
            self._deadline = None
        if self._timed_out is not None:
            raise ProcessFailure("timeout", f"no reply within {self._timed_out:g} s")
        if not response.endswith(b"\n"):
            code = await self._wait_exit(1.0)
            raise ProcessFailure("crash", f"stdout closed mid-session, {describe_exit(code)}")
        return response

    # One timer per process, re-armed only when it fires early: a timer per request (asyncio.timeout)
    # costs more than the rest of the pool's bookkeeping on a fast REPL.
    _deadline: float | None = None
    _timeout_s: float = 0.0
    _timer: asyncio.TimerHandle | None = None
    _timed_out: float | None = None

    def _arm_watchdog(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        self._timeout_s = timeout_s
        self._deadline = deadline = loop.time() + timeout_s
        timer = self._timer
        if timer is None or timer.cancelled():
            self._timer = loop.call_at(deadline, self._watchdog)
        elif timer.when() > deadline:
            timer.cancel()
            self._timer = loop.call_at(deadline, self._watchdog)

    def _watchdog(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return  # idle: the next request arms a new timer
        loop = asyncio.get_running_loop()
        if loop.time() < deadline:
            self._timer = loop.call_at(deadline, self._watchdog)
            return
        self._timed_out = self._timeout_s
        self._kill_group()
        # If something outside the group still holds stdout open, EOF never comes: end the read anyway.
        loop.call_later(2.0, self._end_read)

    def _end_read(self) -> None:
        if self._proc.stdout is not None and self._deadline is not None:
            self._proc.stdout.feed_eof()

    async def _wait_exit(self, timeout_s: float) -> int | None:
        try:
            async with asyncio.timeout(timeout_s):
                return await self._proc.wait()
        except TimeoutError:
            return None

    def exited(self) -> bool:
        """True once the process is gone, even before the event loop has collected its exit status."""
        if self._proc.returncode is not None or self.killed:
            return True
        try:
            if self._psutil is None:
                self._psutil = psutil.Process(self._proc.pid)
            return self._psutil.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
        except psutil.NoSuchProcess:
            return True

    def rss_bytes(self) -> int:
        """Resident memory of the REPL and its descendants (0 if it is gone)."""
        try:
            if self._psutil is None:
                self._psutil = psutil.Process(self._proc.pid)
            total = self._psutil.memory_info().rss
            for child in self._psutil.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            return total
        except psutil.Error:
            return 0

    def _kill_group(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill_now(self) -> None:
        """SIGKILL the group without waiting (for code that cannot await); `kill()` still reaps."""
        self.killed = True
        self._kill_group()

    async def kill(self) -> int | None:
        """SIGKILL the process group and reap the leader. Safe to call more than once."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._kill_group()
        try:
            code = await self._proc.wait()
        finally:
            self._kill_group()  # descendants that outlived the leader
            await self._stop_stderr()
            self._close_pipes()
        return code

    async def close(self) -> int | None:
        """Polite stop (EOF on stdin ends the REPL loop), SIGKILL after the grace period."""
        if self._proc.returncode is None and self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            code = await self._wait_exit(self._close_grace_s)
            if code is not None:
                self._kill_group()
                await self._stop_stderr()
                self._close_pipes()
                return code
        return await self.kill()

    async def _stop_stderr(self) -> None:
        if not self._stderr_task.done():
            try:
                # After exit the pipe reaches EOF quickly; a grandchild holding it open must not block us.
                async with asyncio.timeout(0.5):
                    await asyncio.shield(self._stderr_task)
            except TimeoutError:
                self._stderr_task.cancel()
                try:
                    await self._stderr_task
                except asyncio.CancelledError:
                    pass

    def _close_pipes(self) -> None:
        transport = getattr(self._proc, "_transport", None)
        if transport is not None:
            transport.close()
