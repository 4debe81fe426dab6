"""What a parsed data file yields, before anything touches a database."""

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class KnownProofRecord:
    """A complete proof of a theorem as released by some prover (the text after `:= by`)."""

    proof: str
    source: str = ""
    lean_version: str = ""
    full_code: str = ""
    tactics: tuple[str, ...] = ()
    line: int = 0


@dataclass
class TheoremRecord:
    """One theorem of a data file. `statement` is the closed expression that reaches Lean through `goal.start`."""

    name: str
    statement: str
    line: int
    split: str = ""
    formal_statement: str = ""
    header: str = ""
    informal_statement: str = ""
    informal_proof: str = ""
    lean_version: str = ""
    mathlib_version: str = ""
    source: str = ""
    proofs: list[KnownProofRecord] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class ParsedFile:
    """Every theorem of a file that passed validation, and what the sorry filter dropped (name, line, why).

    `theorems` is a list, or a lazy iterable straight from the reader (see formats.read_data_file)."""

    format: str
    theorems: Iterable[TheoremRecord]
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
