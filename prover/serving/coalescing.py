"""Coalesce concurrent requests into one batch: wait a short linger after the first, then run them together.

Each request submits a list of items and gets back the list of results for exactly those items. The work
function runs in a dedicated thread so the event loop keeps answering (/health, new requests) meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Item, Result]):
    items: list[Item]
    future: asyncio.Future


class CoalescingBatcher(Generic[Item, Result]):
    """Run `work(flat_items) -> flat_results` over the items of every request that arrives within `linger_s`.

    A batch stops growing at `max_items` (a single request larger than that still runs, alone). An exception
    from `work` fails every request of that batch. `on_batch(n_requests, n_items)` counts batches.
    """

    def __init__(
        self,
        work: Callable[[list[Item]], list[Result]],
        *,
        linger_s: float,
        max_items: int,
        name: str,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        self._work = work
        self._linger_s = linger_s
        self._max_items = max(1, max_items)
        self._on_batch = on_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task | None = None
        self._carry: _Pending | None = None

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, items: list[Item]) -> list[Result]:
        assert self._queue is not None, "start() the batcher inside the running event loop first"
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(items, future))
        return await future

    async def _next_batch(self) -> list[_Pending]:
        assert self._queue is not None
        first = self._carry or await self._queue.get()
        self._carry = None
        batch, size = [first], len(first.items)
        deadline = time.monotonic() + self._linger_s
        while size < self._max_items:
            remaining = deadline - time.monotonic()
            try:
                pending = self._queue.get_nowait() if remaining <= 0 else await asyncio.wait_for(
                    self._queue.get(), remaining
                )
            except (asyncio.QueueEmpty, TimeoutError):
                break
            if size + len(pending.items) > self._max_items:
                self._carry = pending  # first in line for the next batch, so order is kept
                break
            batch.append(pending)
            size += len(pending.items)
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            batch = [p for p in batch if not p.future.done()]  # a client that went away cancelled its future
            if not batch:
                continue
            flat = [item for pending in batch for item in pending.items]
            if self._on_batch is not None:
                self._on_batch(len(batch), len(flat))
            try:
                results = await loop.run_in_executor(self._executor, self._work, flat)
            except Exception as error:  # noqa: BLE001 - every waiting request must hear about the failure
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                continue
            start = 0
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_result(results[start : start + len(pending.items)])
                start += len(pending.items)
