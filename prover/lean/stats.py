"""Counters the dashboard shows for a Lean pool: plain data, cheap to update on every request."""

from __future__ import annotations

import collections
import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LeanCounters:
    """Mutable tallies shared by a pool and its workers (one event loop, so no locking)."""

    requests: int = 0
    spawns: int = 0
    restarts: collections.Counter[str] = field(default_factory=collections.Counter)
    timeouts: int = 0  # our watchdog fired: the process was killed
    interrupts: int = 0  # Lean's own cooperative timeout answered `interrupt`; the process lived
    memory_recycles: int = 0
    states_lost: int = 0
    proofs: int = 0
    checks: int = 0
    checks_accepted: int = 0
    refused_inputs: int = 0
    queue_waits: int = 0
    queue_wait_total_s: float = 0.0
    queue_wait_max_s: float = 0.0
    queue_timeouts: int = 0

    def note_restart(self, cause: str) -> None:
        self.restarts[cause] += 1
        if cause == "timeout":
            self.timeouts += 1
        elif cause == "memory":
            self.memory_recycles += 1


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters, ready for JSON."""

    backend: str
    workers: int
    busy_workers: int
    queue_length: int
    requests: int
    spawns: int
    restarts: dict[str, int]
    timeouts: int
    interrupts: int
    memory_recycles: int
    states_lost: int
    proofs: int
    checks: int
    checks_accepted: int
    refused_inputs: int
    queue_waits: int
    queue_wait_mean_s: float
    queue_wait_max_s: float
    queue_timeouts: int
    busy_fraction: float
    uptime_s: float
    versions: dict[str, str | None]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
