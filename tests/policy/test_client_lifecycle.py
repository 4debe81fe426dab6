"""Client lifecycle: cancellation mid-request and reuse across event loops (one asyncio.run per task, as a
Celery worker does)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from prover.policy.circuit_breaker import CircuitBreaker
from prover.policy.client import PolicyClient
from prover.policy.errors import PolicyServerError
from tests.policy.sglang_double import SGLangDouble

SAMPLING = {"max_new_tokens": 16, "temperature": 0.5, "top_p": 1.0}


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_cancelled_probe_does_not_wedge_the_circuit(sglang: SGLangDouble, make_client) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5.0, clock=clock)
    client = make_client(sglang.base_url, max_retries=0, circuit_breaker=breaker)
    sglang.fail_next(1, 503)
    with pytest.raises(PolicyServerError):
        await client.generate(["p"], **SAMPLING)

    clock.now = 10.0
    sglang.delay_s = 30.0
    probe = asyncio.ensure_future(client.generate(["p"], **SAMPLING))
    while not sglang.in_flight:
        await asyncio.sleep(0.01)
    assert breaker.state == "half_open"
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe

    sglang.delay_s = 0.0
    [[completion]] = await client.generate(["p"], **SAMPLING)
    assert completion.text == sglang.default_completion
    assert breaker.state == "closed"


@pytest.fixture
def threaded_sglang() -> Iterator[SGLangDouble]:
    """The double on its own event loop in a thread, so the test can run several loops of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = SGLangDouble()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def test_one_client_serves_successive_event_loops(threaded_sglang: SGLangDouble) -> None:
    client = PolicyClient(threaded_sglang.base_url, timeout_min_s=0.0)

    for _ in range(3):
        [[completion]] = asyncio.run(client.generate(["p"], **SAMPLING))
        assert completion.text == threaded_sglang.default_completion

    asyncio.run(client.aclose())
    assert len(threaded_sglang.requests) == 3
