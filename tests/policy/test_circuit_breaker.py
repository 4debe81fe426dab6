"""The circuit breaker on its own, with a hand-moved clock."""

from __future__ import annotations

import asyncio

import pytest

from prover.policy.circuit_breaker import CircuitBreaker
from prover.policy.errors import CircuitOpenError


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_opens_at_the_threshold_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=5.0, clock=ManualClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"


async def test_open_circuit_refuses_until_the_cooldown_then_admits_one_probe() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5.0, clock=clock, name="policy server X")
    breaker.record_failure()

    clock.now = 4.0
    with pytest.raises(CircuitOpenError, match="policy server X: circuit open") as caught:
        await breaker.admit()
    assert caught.value.retry_after_s == pytest.approx(1.0)

    clock.now = 5.0
    assert await breaker.admit() is True
    assert breaker.state == "half_open"
    waiter = asyncio.ensure_future(breaker.admit())
    await asyncio.sleep(0)
    assert not waiter.done()  # waits for the probe's outcome
    breaker.record_success()
    assert await waiter is False
    assert breaker.state == "closed"


async def test_waiters_see_a_failed_probe_as_an_open_circuit() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5.0, clock=clock)
    breaker.record_failure()
    clock.now = 6.0
    assert await breaker.admit() is True
    waiter = asyncio.ensure_future(breaker.admit())
    await asyncio.sleep(0)
    breaker.record_failure()
    with pytest.raises(CircuitOpenError):
        await waiter


async def test_an_abandoned_probe_hands_the_probe_to_the_next_caller() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5.0, clock=clock)
    breaker.record_failure()
    clock.now = 6.0
    assert await breaker.admit() is True
    waiter = asyncio.ensure_future(breaker.admit())
    await asyncio.sleep(0)
    breaker.record_abandoned(was_probe=True)
    assert await waiter is True
    assert breaker.state == "half_open"


@pytest.mark.parametrize(("threshold", "cooldown"), [(0, 1.0), (1.5, 1.0), (1, -1.0)])
def test_bad_settings_are_rejected(threshold, cooldown) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, cooldown_s=cooldown)
