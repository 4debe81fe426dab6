"""Continuous batching for /generate: one thread drives a DecodeBatch and admits new rows between steps.

A request's rows join the running batch at the next step boundary instead of waiting for the whole batch
to finish (a whole-proof sample of 512 tokens would otherwise hold every later request back), and each
request is answered as soon as its own rows are done. When the batch is empty, the first arrival waits a
short linger so that requests sent together start together.

Out of memory: the rows being admitted (or the whole batch, if a decode step ran out) go back to the front
of the queue and the batch capacity halves; it recovers once the batch has drained. A single row that runs
out of memory alone fails its request with torch.OutOfMemoryError.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from prover.serving.decode_batch import DecodeBatch
from prover.serving.generation import Completion, Row

log = logging.getLogger("prover.serving")
_STOP = object()


@dataclass(eq=False)
class _Request:
    rows: list[Row]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    results: list[Completion | None] = field(default_factory=list)
    remaining: int = 0

    def abandoned(self) -> bool:
        return self.future.done()  # cancelled by a client that went away, or already failed


def _resolve(future: asyncio.Future, result=None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class ContinuousGenerator:
    def __init__(
        self,
        make_batch: Callable[[], DecodeBatch],
        *,
        max_rows: int,
        linger_s: float,
        on_admit: Callable[[int], None] | None = None,
        on_oom: Callable[[int], None] | None = None,
    ) -> None:
        self._make_batch = make_batch
        self.max_rows = max(1, max_rows)
        self._linger_s = linger_s
        self._on_admit = on_admit
        self._on_oom = on_oom
        self._inbox: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="generate", daemon=True)
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._inbox.put(_STOP)
        self._thread.join(timeout=30)

    async def submit(self, rows: list[Row]) -> list[Completion]:
        loop = asyncio.get_running_loop()
        request = _Request(rows, loop.create_future(), loop, [None] * len(rows), len(rows))
        self._inbox.put(request)
        return await request.future

    # --- the worker thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        pending: deque[tuple[_Request, int]] = deque()
        batch = self._make_batch()
        capacity = self.max_rows
        while not self._stopping.is_set():
            if not len(batch) and not pending:
                if not self._wait_for_arrivals(pending):
                    return
            elif not self._drain_inbox(pending):
                return
            while pending and pending[0][0].abandoned():
                pending.popleft()

            room = capacity - len(batch)
            if pending and room > 0 and batch.can_join_running():
                admitted = [pending.popleft() for _ in range(min(room, len(pending)))]
                admitted = [(request, i) for request, i in admitted if not request.abandoned()]
                if admitted:
                    try:
                        finished = batch.admit([((request, i), request.rows[i]) for request, i in admitted])
                        if self._on_admit is not None:
                            self._on_admit(len(admitted))
                        self._deliver(finished)
                    except torch.OutOfMemoryError as error:
                        capacity = self._after_oom(error, admitted, pending, len(batch) + len(admitted))
                    except Exception as error:  # noqa: BLE001 - every affected request must hear of it
                        log.exception("generation failed while admitting rows")
                        self._fail(admitted, error)
            if len(batch):
                try:
                    self._deliver(batch.step())
                    if not len(batch):
                        capacity = self.max_rows  # drained normally: memory is free again
                except torch.OutOfMemoryError as error:
                    rows = batch.keys()
                    batch = self._make_batch()
                    capacity = self._after_oom(error, rows, pending, len(rows))
                except Exception as error:  # noqa: BLE001
                    log.exception("generation failed during a decode step")
                    self._fail(batch.keys(), error)
                    batch = self._make_batch()

    def _after_oom(self, error, rows: list[tuple[_Request, int]], pending: deque, attempted: int) -> int:
        """Requeue `rows` at the front (they restart from their prompt); return the halved capacity."""
        if len(rows) == 1 and attempted == 1:
            self._fail(rows, error)
            return self.max_rows
        if self._on_oom is not None:
            self._on_oom(attempted)
        for item in reversed(rows):
            pending.appendleft(item)
        return max(1, (attempted + 1) // 2)

    def _wait_for_arrivals(self, pending: deque) -> bool:
        first = self._inbox.get()
        if first is _STOP:
            return False
        self._enqueue(first, pending)
        deadline = time.monotonic() + self._linger_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                item = self._inbox.get(timeout=remaining)
            except queue.Empty:
                break
            if item is _STOP:
                return False
            self._enqueue(item, pending)
        return self._drain_inbox(pending)

    def _drain_inbox(self, pending: deque) -> bool:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return True
            if item is _STOP:
                return False
            self._enqueue(item, pending)

    @staticmethod
    def _enqueue(request: _Request, pending: deque) -> None:
        pending.extend((request, i) for i in range(len(request.rows)))

    @staticmethod
    def _deliver(finished) -> None:
        for (request, index), completion in finished:
            request.results[index] = completion
            request.remaining -= 1
            if request.remaining == 0:
                request.loop.call_soon_threadsafe(_resolve, request.future, list(request.results))

    @staticmethod
    def _fail(rows: list[tuple[_Request, int]], error: BaseException) -> None:
        for request in {request for request, _ in rows}:
            request.loop.call_soon_threadsafe(_resolve, request.future, None, error)
