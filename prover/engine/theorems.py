"""Reading a benchmark file: `{"theorems": [{"name", "statement", ...}]}` (reference 8.4)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


class TheoremFileError(ValueError):
    pass


@dataclass(frozen=True)
class Theorem:
    name: str
    statement: str


def load_theorems(path: str | os.PathLike, *, max_theorems: int | None = None) -> list[Theorem]:
    """The theorems of a benchmark JSON file, in file order; errors name the file and the entry."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TheoremFileError(f"{path}: no such theorem file") from None
    except json.JSONDecodeError as exc:
        raise TheoremFileError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("theorems"), list):
        raise TheoremFileError(f'{path}: expected an object with a "theorems" list')
    theorems: list[Theorem] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["theorems"]):
        where = f"{path}: theorems[{i}]"
        if not isinstance(entry, dict):
            raise TheoremFileError(f"{where}: expected an object, got {type(entry).__name__}")
        name, statement = entry.get("name"), entry.get("statement")
        if not isinstance(name, str) or not name.strip():
            raise TheoremFileError(f'{where}: "name" must be a non-empty string')
        if not isinstance(statement, str) or not statement.strip():
            raise TheoremFileError(f'{where} ({name}): "statement" must be a non-empty string')
        if name in seen:
            raise TheoremFileError(f"{where}: duplicate theorem name {name!r}")
        seen.add(name)
        theorems.append(Theorem(name, statement))
    if max_theorems is not None:
        theorems = theorems[:max_theorems]
    return theorems
