"""`LeanPool`: N workers, handed out first come, first served, one proof at a time each.

State ids are per process, so a proof holds its worker from `goal.start` to its last tactic:
`async with pool.proof(expr=...) as handle: await handle.tactic(state_id, "intro x")`. Waiting proofs
queue in arrival order with a timeout. Between proofs a worker is reset (its states dropped) and
recycled when due. `check_proof` re-checks a whole proof in a freshly started process.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from prover.lean.client import PantographClient
from prover.lean.config import LeanConfig
from prover.lean.errors import PoolClosed, PoolTimeout, ReplayError, StateLost, UnsafeInputError
from prover.lean.results import CheckResult, Outcome, StartResult, TacticResult
from prover.lean.safety import check_proof_text, check_statement
from prover.lean.stats import LeanCounters, PoolStats
from prover.lean.versions import LeanVersions, query_versions, require_compatible_lean
from prover.lean.worker import LeanWorker

log = logging.getLogger(__name__)


class ProofHandle:
    """One theorem's exclusive use of one worker. Every state id it returns belongs to that process."""

    def __init__(self, worker: LeanWorker, *, expr: str | None, copy_from: str | None) -> None:
        self.worker = worker
        self._expr = expr
        self._copy_from = copy_from
        self.generation = worker.generation
        self._client = self._bind()
        self.initial: StartResult | None = None  # the root state and its goals

    def _bind(self) -> PantographClient:
        return PantographClient(
            functools.partial(self.worker.request, generation=self.generation), capabilities=self.worker.capabilities
        )

    @property
    def root_state_id(self) -> int:
        assert self.initial is not None, "the proof has not started"
        return self.initial.state_id

    async def _begin(self) -> StartResult:
        self.initial = await self._client.start(expr=self._expr, copy_from=self._copy_from)
        return self.initial

    async def tactic(self, state_id: int, tactic: str, goal_id: int | None = None) -> TacticResult:
        """Apply `tactic` to state `state_id` (optionally preferring goal `goal_id`).

        Tactic failures come back as results; `StateLost` means the worker's process was replaced and
        this proof must `restart()`.
        """
        return await self._client.tactic(state_id, tactic, goal_id=goal_id)

    async def delete(self, state_ids: Iterable[int]) -> None:
        """Free states the search no longer needs (Lean never evicts on its own)."""
        await self._client.delete(state_ids)

    async def stat(self) -> int:
        return await self._client.stat()

    async def restart(self) -> StartResult:
        """After `StateLost`: start the same theorem again on the worker's new process."""
        await self.worker.ensure_started()
        self.generation = self.worker.generation
        self._client = self._bind()
        return await self._begin()

    async def replay(self, path: Sequence[tuple[str, int | None]]) -> TacticResult:
        """Re-apply `(tactic, goal_id)` steps from the root: after `StateLost`, this rebuilds the state a
        search had reached (Lean is deterministic) instead of giving the theorem up. Restarts first if
        this handle's process is gone. Raises `ReplayError` if a step no longer succeeds.
        """
        if self.generation != self.worker.generation or not self.worker.alive:
            await self.restart()
        state = self.root_state_id
        result = TacticResult(Outcome.NEW_GOALS, state_id=state, goals=self.initial.goals if self.initial else ())
        for index, (tactic, goal_id) in enumerate(path):
            if state is None:
                raise ReplayError(f"replay step {index} ({tactic!r}): the proof was already complete")
            result = await self.tactic(state, tactic, goal_id=goal_id)
            if not result.ok:
                raise ReplayError(f"replay step {index} ({tactic!r}) gave {result.outcome.value}: {result.feedback}")
            state = result.state_id
        return result


class LeanPool:
    """A fixed set of `LeanWorker`s with a FIFO queue. Use as `async with LeanPool(config) as pool:`."""

    def __init__(self, config: LeanConfig | None = None, *, reset_between_proofs: bool = True) -> None:
        self.config = config or LeanConfig()
        self.counters = LeanCounters()
        spawn_slots = asyncio.Semaphore(self.config.spawn_concurrency)  # shared: one budget for the pool
        self._workers = [
            LeanWorker(self.config, i, self.counters, spawn_slots) for i in range(self.config.num_workers)
        ]
        self._idle: collections.deque[LeanWorker] = collections.deque(self._workers)
        self._waiters: collections.deque[asyncio.Future[LeanWorker]] = collections.deque()
        self._busy_since: dict[int, float] = {}
        self._busy_total_s = 0.0
        self._started_at = time.monotonic()
        self._closed = False
        self._reset_between_proofs = reset_between_proofs
        self.versions: LeanVersions | None = None

    async def __aenter__(self) -> LeanPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def size(self) -> int:
        return len(self._workers)

    @property
    def workers(self) -> tuple[LeanWorker, ...]:
        return tuple(self._workers)

    async def start(self) -> None:
        """Ask the versions, then start every worker concurrently; any failure closes the pool and raises."""
        self.versions = await query_versions(self.config)
        results = await asyncio.gather(*(w.ensure_started() for w in self._workers), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.close()
            raise failures[0]
        self._started_at = time.monotonic()

    async def close(self) -> None:
        """Refuse new work, fail the waiters, stop every process (EOF, then SIGKILL) and reap it."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the Lean pool was closed while this proof waited"))
        await asyncio.gather(*(w.close() for w in self._workers), return_exceptions=True)

    # -- checkout ----------------------------------------------------------------------------------

    async def _acquire(self, wait_timeout_s: float | None) -> LeanWorker:
        if self._closed:
            raise PoolClosed("the Lean pool is closed")
        started = time.monotonic()
        if self._idle and not self._waiters:
            worker = self._idle.popleft()
        else:
            waiter: asyncio.Future[LeanWorker] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            timeout = self.config.queue_timeout_s if wait_timeout_s is None else wait_timeout_s
            try:
                async with asyncio.timeout(timeout):
                    worker = await waiter
            except TimeoutError:
                self.counters.queue_timeouts += 1
                self._abandon(waiter)
                raise PoolTimeout(
                    f"no Lean worker free within {timeout:g} s ({self.size} workers, "
                    f"{len(self._waiters)} proofs still waiting)"
                ) from None
            except BaseException:
                self._abandon(waiter)
                raise
        waited = time.monotonic() - started
        self.counters.queue_waits += 1
        self.counters.queue_wait_total_s += waited
        self.counters.queue_wait_max_s = max(self.counters.queue_wait_max_s, waited)
        self._busy_since[worker.worker_id] = time.monotonic()
        return worker

    def _abandon(self, waiter: asyncio.Future[LeanWorker]) -> None:
        # A worker may have been handed over just as the wait was cancelled: pass it on, never drop it.
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self._busy_since[waiter.result().worker_id] = time.monotonic()
            self._release(waiter.result())
        else:
            waiter.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _release(self, worker: LeanWorker) -> None:
        since = self._busy_since.pop(worker.worker_id, None)
        if since is not None:
            self._busy_total_s += time.monotonic() - since
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._busy_since[worker.worker_id] = time.monotonic()
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    @contextlib.asynccontextmanager
    async def worker(self, *, wait_timeout_s: float | None = None) -> AsyncIterator[LeanWorker]:
        """Exclusive use of one ready worker (recycled first if due); lower level than `proof`."""
        worker = await self._acquire(wait_timeout_s)
        try:
            await worker.prepare()
            yield worker
        finally:
            # A worker due for recycling is replaced at its next checkout; resetting it first is wasted.
            if self._reset_between_proofs and worker.alive and worker.recycle_cause() is None:
                try:
                    await worker.call("reset", {})
                except Exception as exc:  # the worker is already replaced or will be at next checkout
                    log.info("lean worker %d: reset after proof failed: %s", worker.worker_id, exc)
            self._release(worker)

    @contextlib.asynccontextmanager
    async def proof(
        self, *, expr: str | None = None, copy_from: str | None = None, wait_timeout_s: float | None = None
    ) -> AsyncIterator[ProofHandle]:
        """Start one theorem on one worker and hold it until the block ends.

        The statement is checked by the safety filter before the proof joins the queue.
        `goal.start` errors (parse, elaboration, unknown name) raise `ReplError`.
        """
        if (expr is None) == (copy_from is None):
            raise ValueError("proof: give exactly one of expr= and copy_from=")
        try:
            check_statement(expr if expr is not None else str(copy_from), name=None if expr else "copy_from")
        except UnsafeInputError:
            self.counters.refused_inputs += 1
            raise
        async with self.worker(wait_timeout_s=wait_timeout_s) as worker:
            handle = ProofHandle(worker, expr=expr, copy_from=copy_from)
            self.counters.proofs += 1
            try:
                await handle._begin()
            except StateLost:
                # The process died after the checkout looked at it; no state was in use yet, so one
                # fresh start is safe (a statement that crashes Lean twice is the caller's to see).
                await handle.restart()
            yield handle

    async def check_proof(
        self, statement: str, proof_text: str, *, wait_timeout_s: float | None = None
    ) -> CheckResult:
        """Re-check a found proof as a whole file, in a fresh process (a restarted worker by default).

        Never raises for an unsound or broken proof: the verdict is in the result. A check that could
        not finish (timeout, crash) comes back with `ok=False` and `lost` set.
        """
        try:
            check_statement(statement)
            check_proof_text(proof_text)
        except UnsafeInputError:
            self.counters.refused_inputs += 1
            raise
        self.counters.checks += 1
        async with self.worker(wait_timeout_s=wait_timeout_s) as worker:
            if self.config.check_in_fresh_process and worker.requests_handled > 0:
                await worker.restart("check")
            client = PantographClient(
                functools.partial(worker.request, timeout_s=self.config.check_timeout_s),
                capabilities=worker.capabilities,
            )
            try:
                result = await client.check_proof(statement, proof_text)
            except StateLost as lost:
                return CheckResult(ok=False, lost=f"{lost.cause}: {lost.detail}")
        if result.ok:
            self.counters.checks_accepted += 1
        return result

    def require_dataset_version(
        self, declared_lean_version: str | None, *, dataset: str = "dataset", allow_mismatch: bool = False
    ) -> None:
        """Refuse (`VersionMismatchError`) a dataset written for another Lean than this pool runs."""
        if self.versions is None:
            raise PoolClosed("start the pool before checking a dataset's Lean version against it")
        require_compatible_lean(declared_lean_version, self.versions, dataset=dataset, allow_mismatch=allow_mismatch)

    # -- reporting ---------------------------------------------------------------------------------

    def stats(self) -> PoolStats:
        now = time.monotonic()
        busy = self._busy_total_s + sum(now - since for since in self._busy_since.values())
        uptime = max(now - self._started_at, 1e-9)
        c = self.counters
        versions = self.versions.as_dict() if self.versions else {}
        return PoolStats(
            backend=self.config.backend,
            workers=self.size,
            busy_workers=len(self._busy_since),
            queue_length=sum(1 for w in self._waiters if not w.done()),
            requests=c.requests,
            spawns=c.spawns,
            restarts=dict(c.restarts),
            timeouts=c.timeouts,
            interrupts=c.interrupts,
            memory_recycles=c.memory_recycles,
            states_lost=c.states_lost,
            proofs=c.proofs,
            checks=c.checks,
            checks_accepted=c.checks_accepted,
            refused_inputs=c.refused_inputs,
            queue_waits=c.queue_waits,
            queue_wait_mean_s=c.queue_wait_total_s / c.queue_waits if c.queue_waits else 0.0,
            queue_wait_max_s=c.queue_wait_max_s,
            queue_timeouts=c.queue_timeouts,
            busy_fraction=min(1.0, busy / (uptime * self.size)),
            uptime_s=uptime,
            versions=versions,
        )

    def describe(self) -> dict[str, Any]:
        """Stats plus the configuration a run should store next to its results."""
        return {"stats": self.stats().as_dict(), "command": self.config.command, "backend": self.config.backend}


