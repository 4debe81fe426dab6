"""Train/validation split by theorem name (seed gotcha 11, reference pitfall B18), deterministic.

fraction = int(md5("burn-qed-v2-split:{source}:{theorem}")[:8], 16) / 0xFFFFFFFF; fraction < val_fraction
goes to validation. A theorem lands on the same side whatever else is in the data, so adding files never
moves a theorem from validation into training.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SPLIT_METHOD = "md5:burn-qed-v2-split:{source}:{theorem}"


def split_fraction(theorem: str, *, source: str = "") -> float:
    digest = hashlib.md5(f"burn-qed-v2-split:{source}:{theorem}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


def is_validation(theorem: str, *, val_fraction: float, source: str = "") -> bool:
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    return split_fraction(theorem, source=source) < val_fraction


def split_theorems(names: Iterable[str], *, val_fraction: float, source: str = "") -> tuple[list[str], list[str]]:
    """(train, validation) theorem names, each sorted."""
    train, val = [], []
    for name in sorted(set(names)):
        (val if is_validation(name, val_fraction=val_fraction, source=source) else train).append(name)
    return train, val
