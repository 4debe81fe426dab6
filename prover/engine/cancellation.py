"""Cooperative cancellation: anything with `is_set()` (threading.Event, asyncio.Event) or a no-arg callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class _Flag(Protocol):
    def is_set(self) -> bool: ...


CancelSignal = _Flag | Callable[[], bool] | None


def as_cancel_check(signal: CancelSignal) -> Callable[[], bool]:
    """Normalise a cancellation signal into a cheap no-arg predicate."""
    if signal is None:
        return lambda: False
    if isinstance(signal, _Flag):
        return signal.is_set
    if callable(signal):
        return signal
    raise TypeError(f"cancel must be an Event-like object with is_set(), a callable or None, got {signal!r}")
