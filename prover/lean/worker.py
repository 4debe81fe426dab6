"""`LeanWorker`: one REPL process kept healthy across its whole life.

Every request runs under a wall-clock watchdog. A timeout, a crash (EOF, broken pipe) or an
unreadable reply kills and reaps the process and raises `StateLost`; the next use spawns a fresh one.
Because ids restart at 0 in a new process, each process gets a new `generation`, and a request that
names the generation its state ids came from is refused once that process is gone, instead of
silently landing on some other state with the same number.

Recycling (a fresh process between proofs) happens after `max_requests`, after `max_lifetime_s`,
when the process exited on its own, or when its RSS passes `memory_cap_mb`. The memory cap is also
watched during a proof (sampled at most every `memory_check_interval_s`): a REPL past it loses its
states rather than taking the machine down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from prover.lean.client import PantographClient, encode_request
from prover.lean.config import LeanConfig
from prover.lean.errors import PoolClosed, ReplError, ReplStartError, StateLost
from prover.lean.process import ProcessFailure, ReplProcess
from prover.lean.stats import LeanCounters

log = logging.getLogger(__name__)


class LeanWorker:
    """One REPL slot. Requests are serialised: Pantograph answers strictly one line per request."""

    def __init__(
        self,
        config: LeanConfig,
        worker_id: int = 0,
        counters: LeanCounters | None = None,
        spawn_slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.config = config
        self.worker_id = worker_id
        self.counters = counters if counters is not None else LeanCounters()
        self._spawn_slots = spawn_slots or asyncio.Semaphore(config.spawn_concurrency)
        self.generation = 0
        self.requests_handled = 0  # by the current process
        self._process: ReplProcess | None = None
        self._lock = asyncio.Lock()
        self._last_memory_check = 0.0
        self._last_stderr = ""
        self._closed = False
        self.capabilities: dict[str, bool] = {}
        self.client = PantographClient(self.request, capabilities=self.capabilities)

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and not self._process.exited()

    def stderr_tail(self, lines: int = 20) -> str:
        return self._process.stderr_tail(lines) if self._process is not None else self._last_stderr

    async def ensure_started(self) -> None:
        """Spawn the process (and run the setup commands) if there is none."""
        if self.alive:
            return
        async with self._lock:
            if self._closed:
                raise PoolClosed(f"lean worker {self.worker_id} is closed")
            if self.alive:
                return
            if self._process is not None:
                if not self._process.killed:  # exited on its own between requests
                    self.counters.note_restart("exited")
                await self._discard()
            await self._spawn()

    async def _spawn(self) -> None:
        async with self._spawn_slots:
            process = await ReplProcess.spawn(self.config, label=f"lean worker {self.worker_id}")
        self._process = process
        self.generation += 1
        self.requests_handled = 0
        self._last_memory_check = time.monotonic()
        self.counters.spawns += 1
        try:
            if self.config.repl_options:
                await self._setup_call("options.set", dict(self.config.repl_options))
            if self.config.preamble:
                await self._setup_call(
                    "frontend.process",
                    {"file": self.config.preamble, "readHeader": False, "inheritEnv": True, "sorrys": False,
                     "typeErrorsAsGoals": False, "newConstants": False},
                )
        except BaseException:
            await self._discard()
            raise

    async def _setup_call(self, command: str, payload: dict[str, Any]) -> None:
        assert self._process is not None
        try:
            line = await self._process.exchange(encode_request(command, payload), self.config.ready_timeout_s)
            reply = json.loads(line)
        except (ProcessFailure, ValueError) as exc:
            raise ReplStartError(f"worker {self.worker_id}: setup {command} failed: {exc}") from exc
        if "error" in reply:
            raise ReplStartError(f"worker {self.worker_id}: setup {command} answered {reply!r}")
        units = reply.get("units", []) if command == "frontend.process" else []
        errors = [m for u in units for m in u.get("messages", []) if isinstance(m, dict) and m.get("severity") == "error"]
        if errors:
            raise ReplStartError(f"worker {self.worker_id}: preamble {self.config.preamble!r} failed: {errors!r}")

    async def _discard(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await process.kill()  # drains stderr to EOF first, so the tail holds the REPL's last words
            self._last_stderr = process.stderr_tail()

    def recycle_cause(self) -> str | None:
        """Why the process should be replaced before the next proof, or None."""
        process = self._process
        if process is None:
            return None
        if process.exited():
            return "exited"
        if self.requests_handled >= self.config.max_requests:
            return "requests"
        if time.monotonic() - process.started_at >= self.config.max_lifetime_s:
            return "age"
        if self._over_memory_cap(force=True):
            return "memory"
        return None

    def _over_memory_cap(self, *, force: bool) -> bool:
        cap = self.config.memory_cap_mb
        if cap is None or self._process is None:
            return False
        now = time.monotonic()
        if not force and now - self._last_memory_check < self.config.memory_check_interval_s:
            return False
        self._last_memory_check = now
        return self._process.rss_bytes() > cap * 1024 * 1024

    async def prepare(self) -> None:
        """Between proofs: recycle if due, then make sure a process is running."""
        cause = self.recycle_cause()
        if cause is not None:
            await self.restart(cause)
        else:
            await self.ensure_started()

    async def restart(self, cause: str) -> None:
        """Replace the process now (its state ids die with it)."""
        async with self._lock:
            if self._closed:
                raise PoolClosed(f"lean worker {self.worker_id} is closed")
            if self._process is None or not self._process.killed:  # a kill we made was counted then
                self.counters.note_restart(cause)
            await self._discard()
            await self._spawn()

    async def close(self) -> None:
        """Stop for good: an in-flight request is cut short (its caller gets `StateLost`, cause "closed")."""
        self._closed = True
        if self._lock.locked() and self._process is not None:
            self._process.kill_now()  # don't sit out a 30 s watchdog to shut down
        async with self._lock:
            self.generation += 1
            process, self._process = self._process, None
            if process is not None:
                self._last_stderr = process.stderr_tail()
                await process.close()

    # -- requests ----------------------------------------------------------------------------------

    async def request(
        self, command: str, payload: Mapping[str, Any], *, generation: int | None = None, timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Send one command and return the decoded reply (error objects included, as dicts).

        Raises `StateLost` when the process had to be killed, or when `generation` names a process
        that no longer exists.
        """
        line = encode_request(command, payload)
        async with self._lock:
            if self._closed:
                raise PoolClosed(f"lean worker {self.worker_id} is closed; {command} was not sent")
            if generation is not None and generation != self.generation:
                raise StateLost(
                    cause="replaced",
                    detail=f"{command}: the process these state ids belong to (generation {generation}) "
                    f"was replaced by generation {self.generation}",
                    worker_id=self.worker_id,
                )
            # Cheap test on the hot path; `exited()` (which asks the kernel) runs at checkout.
            if self._process is None or self._process.returncode is not None or self._process.killed:
                if generation is not None:
                    await self._lose(command, "crash", "the process exited between requests")
                if self._process is not None:
                    if not self._process.killed:
                        self.counters.note_restart("exited")
                    await self._discard()
                await self._spawn()
            if self._over_memory_cap(force=False):
                await self._lose(command, "memory", f"RSS passed the cap of {self.config.memory_cap_mb:g} MiB")
            assert self._process is not None
            self.requests_handled += 1
            self.counters.requests += 1
            try:
                raw = await self._process.exchange(line, timeout_s or self.config.request_timeout_s)
            except ProcessFailure as failure:
                await self._lose(command, failure.cause, failure.detail)
            except asyncio.CancelledError:
                # The request is on the wire and its reply would be read as the answer to the next one:
                # the process cannot be trusted any more. Kill it now; it is reaped at the next use or close.
                self._process.kill_now()
                self.generation += 1
                self.counters.note_restart("cancelled")
                raise
            try:
                reply = json.loads(raw)
            except ValueError:
                await self._lose(command, "protocol", f"reply is not JSON: {raw[:300]!r}")
            if not isinstance(reply, dict):
                await self._lose(command, "protocol", f"reply is not a JSON object: {raw[:300]!r}")
            if reply.get("error") == "internal" and "interrupt" in str(reply.get("desc", "")):
                self.counters.interrupts += 1
            return reply

    async def _lose(self, command: str, cause: str, detail: str) -> None:
        """Kill and reap the process (lock held), count it, and raise `StateLost`."""
        if self._closed:
            cause, detail = "closed", f"the pool was closed during the request ({detail})"
        self.generation += 1  # even before the respawn, old ids must not validate
        self.counters.note_restart(cause)
        self.counters.states_lost += 1
        had_process = self._process is not None
        await self._discard()
        stderr = self._last_stderr if had_process else ""
        log.warning("lean worker %d: %s during %s: %s", self.worker_id, cause, command, detail)
        raise StateLost(cause=cause, detail=f"{command}: {detail}", worker_id=self.worker_id, stderr_tail=stderr)

    async def call(self, command: str, payload: Mapping[str, Any], *, generation: int | None = None) -> dict[str, Any]:
        """Like `request`, but an error object raises `ReplError`."""
        reply = await self.request(command, payload, generation=generation)
        if "error" in reply:
            raise ReplError(command=command, kind=str(reply["error"]), desc=str(reply.get("desc", "")))
        return reply
