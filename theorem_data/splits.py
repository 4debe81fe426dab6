"""Deterministic train/validation split by THEOREM NAME: pairs of one theorem share names and states, so a
pair-level split leaks them into validation (docs/training.md#split-by-theorem-name).

A theorem's bucket comes from an MD5 hash of `"<salt>:<name>"` (the name and a fixed salt, nothing else): the first 8 hex digits over 0xFFFFFFFF give a
fraction in [0, 1], and a fraction below ``val_fraction`` sends the theorem to validation. Every step of a
theorem therefore lands on the same side, in every process and on every machine, whatever the file order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

SPLIT_SALT = "burn-qed-split"


def check_fraction(val_fraction: float) -> float:
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, int | float):
        raise TypeError(f"val_fraction must be a number, got {type(val_fraction).__name__}")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    return float(val_fraction)


def name_fraction(name: str, *, salt: str = SPLIT_SALT) -> float:
    """The theorem's position in [0, 1]: a pure function of ``salt`` and ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"theorem name must be a non-empty str, got {name!r}")
    digest = hashlib.md5(f"{salt}:{name}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


def is_validation(name: str, val_fraction: float, *, salt: str = SPLIT_SALT) -> bool:
    return name_fraction(name, salt=salt) < check_fraction(val_fraction)


def split_by_name(
    items: Iterable[T], name_of: Callable[[T], str], val_fraction: float, *, salt: str = SPLIT_SALT
) -> tuple[list[T], list[T]]:
    """(train, validation) lists, each keeping the input order; no theorem name appears on both sides."""
    fraction = check_fraction(val_fraction)
    train: list[T] = []
    val: list[T] = []
    for item in items:
        (val if name_fraction(name_of(item), salt=salt) < fraction else train).append(item)
    return train, val
