"""A circuit breaker for the policy server.

When the server is down, every search worker would otherwise spend its full retry schedule on every
expansion. After ``failure_threshold`` consecutive failed calls the circuit opens and calls fail at once
with a clear error. After ``cooldown_s`` one call is let through as a probe (half-open): if it succeeds the
circuit closes, if it fails the circuit opens for another cooldown. Calls that arrive while the probe is in
flight wait for its outcome instead of failing, so a batch of concurrent chunks recovers together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

from prover.policy.errors import CircuitOpenError

CircuitState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        cooldown_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "policy server",
    ) -> None:
        if not isinstance(failure_threshold, int) or failure_threshold < 1:
            raise ValueError(f"failure_threshold must be an integer >= 1, got {failure_threshold!r}")
        if not cooldown_s >= 0:
            raise ValueError(f"cooldown_s must be >= 0, got {cooldown_s!r}")
        self.failure_threshold = failure_threshold
        self.cooldown_s = float(cooldown_s)
        self.name = name
        self._clock = clock
        self._state: CircuitState = "closed"
        self._consecutive_failures = 0
        self._opened_at = 0.0
        self._probe_done: asyncio.Event | None = None

    @property
    def state(self) -> CircuitState:
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive_failures

    async def admit(self) -> bool:
        """Return when a call may go ahead; raise ``CircuitOpenError`` while the circuit is open.

        Returns True when the caller is the half-open probe (pass it to ``record_abandoned``).
        """
        while True:
            if self._state == "closed":
                return False
            if self._state == "half_open":
                assert self._probe_done is not None
                await self._probe_done.wait()
                continue
            remaining = self._opened_at + self.cooldown_s - self._clock()
            if remaining > 0:
                raise CircuitOpenError(
                    f"{self.name}: circuit open after {self._consecutive_failures} consecutive failed calls; "
                    f"not contacting it for another {remaining:.1f} s",
                    retry_after_s=remaining,
                )
            # Cooldown over: this caller becomes the probe.
            self._state = "half_open"
            self._probe_done = asyncio.Event()
            return True

    def record_success(self) -> None:
        self._consecutive_failures = 0
        self._state = "closed"
        self._finish_probe()

    def record_failure(self) -> None:
        self._consecutive_failures += 1
        if self._state == "half_open" or self._consecutive_failures >= self.failure_threshold:
            self._state = "open"
            self._opened_at = self._clock()
        self._finish_probe()

    def record_abandoned(self, *, was_probe: bool) -> None:
        """The call ended without saying anything about the server's health (it was cancelled).

        A probe that ends this way hands the probe role to the next caller instead of leaving waiters
        blocked forever.
        """
        if was_probe and self._state == "half_open":
            self._state = "open"
            self._opened_at = self._clock() - self.cooldown_s
        self._finish_probe()

    def _finish_probe(self) -> None:
        if self._probe_done is not None and self._state != "half_open":
            self._probe_done.set()
            self._probe_done = None
