"""The one loop that uses the model: continuous batching for /generate, coalesced batches for /encode.

Every forward pass of the server runs here, in one thread, so the backbone needs no other lock and a long
generation and a stream of encodes interleave: between two decode steps the loop admits newly arrived
generate rows into the running batch and runs the encode requests that arrived meanwhile as one batch.
`python -m prover.serving` runs this loop on the process's main thread: bf16 matrix products on CPU
measured about 30% slower from other threads here (torch 2.13), so the HTTP event loop gets the side thread.

/generate: a request's rows join the running batch at the next step boundary instead of waiting for it to
finish (a 512-token whole-proof sample would otherwise hold every later request back), and each request is
answered as soon as its own rows are done. /encode: all requests waiting when the loop gets to them are
embedded together (sub-batches that halve on out-of-memory, see `encoding.encode_with_halving`).
When the loop is idle, the first arrival waits a short linger so that requests sent together start together.

Out of memory while generating: the rows being admitted (or the whole batch, if a decode step ran out) go
back to the front of the queue and the batch capacity halves; it recovers once the batch has drained.
A single row that runs out of memory alone fails its request with torch.OutOfMemoryError.
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
class _GenerateJob:
    rows: list[Row]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    results: list[Completion | None] = field(default_factory=list)
    remaining: int = 0

    def abandoned(self) -> bool:
        return self.future.done()  # cancelled by a client that went away, or already failed


@dataclass(eq=False)
class _EncodeJob:
    token_ids: list[list[int]]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


def _resolve(future: asyncio.Future, result=None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class ModelWorker:
    def __init__(
        self,
        make_batch: Callable[[], DecodeBatch],
        encode: Callable[[list[list[int]]], torch.Tensor],
        *,
        max_rows: int,
        generate_linger_s: float,
        encode_linger_s: float,
        on_admit: Callable[[int], None] | None = None,
        on_generate_oom: Callable[[int], None] | None = None,
        on_encode_batch: Callable[[int, int], None] | None = None,
        on_abort: Callable[[int], None] | None = None,
    ) -> None:
        self._make_batch = make_batch
        self._encode = encode
        self.max_rows = max(1, max_rows)
        self._generate_linger_s = generate_linger_s
        self._encode_linger_s = encode_linger_s
        self._on_admit = on_admit
        self._on_generate_oom = on_generate_oom
        self._on_encode_batch = on_encode_batch
        self._on_abort = on_abort
        self._inbox: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- used from the event loop -----------------------------------------------------------------------------

    async def generate(self, rows: list[Row]) -> list[Completion]:
        loop = asyncio.get_running_loop()
        job = _GenerateJob(rows, loop.create_future(), loop, [None] * len(rows), len(rows))
        self._inbox.put(job)
        return await job.future

    async def encode(self, token_ids: list[list[int]]) -> torch.Tensor:
        loop = asyncio.get_running_loop()
        job = _EncodeJob(token_ids, loop.create_future(), loop)
        self._inbox.put(job)
        return await job.future

    # --- lifecycle --------------------------------------------------------------------------------------------

    def start_thread(self) -> None:
        """Run the loop in a background thread (for embedding the server; the CLI uses run_forever)."""
        self._thread = threading.Thread(target=self.run_forever, name="model-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._inbox.put(_STOP)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def run_forever(self) -> None:
        """Serve jobs on the calling thread until stop()."""
        pending: deque[tuple[_GenerateJob, int]] = deque()
        encodes: list[_EncodeJob] = []
        batch = self._make_batch()
        capacity = self.max_rows
        while not self._stopping.is_set():
            idle = not len(batch) and not pending and not encodes
            if not (self._wait_for_arrivals(pending, encodes) if idle else self._drain_inbox(pending, encodes)):
                return
            if encodes:
                self._run_encodes(encodes)
                encodes = []
            while pending and pending[0][0].abandoned():
                pending.popleft()

            room = capacity - len(batch)
            if pending and room > 0 and batch.can_join_running():
                admitted = [pending.popleft() for _ in range(min(room, len(pending)))]
                admitted = [(job, i) for job, i in admitted if not job.abandoned()]
                if admitted:
                    try:
                        finished = batch.admit([((job, i), job.rows[i]) for job, i in admitted])
                        if self._on_admit is not None:
                            self._on_admit(len(admitted))
                        self._deliver(finished)
                    except torch.OutOfMemoryError as error:
                        capacity = self._after_oom(error, admitted, pending, len(batch) + len(admitted))
                    except Exception as error:  # noqa: BLE001 - every affected request must hear of it
                        log.exception("generation failed while admitting rows")
                        self._fail(admitted, error)
            if len(batch):
                # Rows whose request was cancelled (the client disconnected) stop costing forwards.
                aborted = batch.abort(lambda key: key[0].abandoned())
                if aborted and self._on_abort is not None:
                    self._on_abort(aborted)
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

    # --- internals --------------------------------------------------------------------------------------------

    def _run_encodes(self, jobs: list[_EncodeJob]) -> None:
        jobs = [job for job in jobs if not job.future.done()]
        if not jobs:
            return
        flat = [ids for job in jobs for ids in job.token_ids]
        if self._on_encode_batch is not None:
            self._on_encode_batch(len(jobs), len(flat))
        try:
            vectors = self._encode(flat)
        except Exception as error:  # noqa: BLE001 - every waiting request must hear of it
            if not isinstance(error, torch.OutOfMemoryError):
                log.exception("encoding failed")
            for job in jobs:
                job.loop.call_soon_threadsafe(_resolve, job.future, None, error)
            return
        start = 0
        for job in jobs:
            part = vectors[start : start + len(job.token_ids)]
            start += len(job.token_ids)
            job.loop.call_soon_threadsafe(_resolve, job.future, part)

    def _after_oom(self, error, rows: list[tuple[_GenerateJob, int]], pending: deque, attempted: int) -> int:
        """Requeue `rows` at the front (they restart from their prompt); return the halved capacity."""
        if len(rows) == 1 and attempted == 1:
            self._fail(rows, error)
            return self.max_rows
        if self._on_generate_oom is not None:
            self._on_generate_oom(attempted)
        for item in reversed(rows):
            pending.appendleft(item)
        return max(1, (attempted + 1) // 2)

    def _wait_for_arrivals(self, pending: deque, encodes: list) -> bool:
        first = self._inbox.get()
        if first is _STOP:
            return False
        self._take(first, pending, encodes)
        linger = self._encode_linger_s if isinstance(first, _EncodeJob) else self._generate_linger_s
        deadline = time.monotonic() + linger
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                item = self._inbox.get(timeout=remaining)
            except queue.Empty:
                break
            if item is _STOP:
                return False
            self._take(item, pending, encodes)
        return self._drain_inbox(pending, encodes)

    def _drain_inbox(self, pending: deque, encodes: list) -> bool:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return True
            if item is _STOP:
                return False
            self._take(item, pending, encodes)

    @staticmethod
    def _take(item, pending: deque, encodes: list) -> None:
        if isinstance(item, _EncodeJob):
            encodes.append(item)
        else:
            pending.extend((item, i) for i in range(len(item.rows)))

    @staticmethod
    def _deliver(finished) -> None:
        for (job, index), completion in finished:
            job.results[index] = completion
            job.remaining -= 1
            if job.remaining == 0:
                job.loop.call_soon_threadsafe(_resolve, job.future, list(job.results))

    @staticmethod
    def _fail(rows: list[tuple[_GenerateJob, int]], error: BaseException) -> None:
        for job in {job for job, _ in rows}:
            job.loop.call_soon_threadsafe(_resolve, job.future, None, error)
