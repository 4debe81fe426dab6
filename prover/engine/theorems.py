"""What the engine searches: a theorem's name and the closed statement that Lean's `goal.start` takes.

Files of theorems are read by `theorem_data.formats.read_theorem_file` (the same readers as an import); the
engine accepts any object with `name` and `statement`, such as its records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class NamedStatement(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def statement(self) -> str: ...


@dataclass(frozen=True)
class TheoremStatement:
    name: str
    statement: str
