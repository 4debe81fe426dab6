"""Readers for the data files the service imports. Each returns a ParsedFile or raises DataFileError naming the line.

Formats (names used by the admin, the API and `manage.py import_dataset --format`):
- `benchmark-json`: `{"theorems": [{"name", "statement"}]}` with closed-expression statements (BurnQED's files).
- `minif2f-lean4`: JSONL with `name, split, formal_statement, header, informal_*, lean_version, mathlib`.
- `deepseek-prover`: DeepSeek-Prover-V1.5 JSONL with `name, split, informal_prefix, formal_statement, goal, header`.
- `proofs`: JSONL of complete proofs `name, split, source, formal_statement, proof [, full_code, tactics]`;
  several records may share a theorem, each adds a proof.
- `lean-workbook`: JSONL with `name, formal_statement [, subsets]`.
"""

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prover.lean.errors import UnsafeInputError
from prover.lean.safety import check_statement, name_error

from .errors import DataFileError
from .records import KnownProofRecord, ParsedFile, TheoremRecord
from .sorry_filter import escape_hatch
from .statements import closed_statement_at, normalise_whitespace

FORMATS = ("benchmark-json", "minif2f-lean4", "deepseek-prover", "proofs", "lean-workbook")


def _loads(text: str, *, line: int, path: str):
    """json.loads, with a file nested past Python's recursion limit (100k `[`) refused as bad data, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise DataFileError("JSON nested too deeply", line=line, path=path) from None


def _json_lines(text: str, path: str) -> Iterator[tuple[int, dict]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = _loads(raw, line=number, path=path)
        except json.JSONDecodeError as exc:
            raise DataFileError(f"malformed JSON ({exc.msg} at column {exc.colno})", line=number, path=path) from None
        if not isinstance(value, dict):
            raise DataFileError("expected a JSON object on this line", line=number, path=path)
        yield number, value


def _benchmark_items(text: str, path: str) -> Iterator[tuple[int, dict]]:
    """The elements of the top-level `theorems` array, each with the line it starts on."""
    try:
        document = _loads(text, line=1, path=path)
    except json.JSONDecodeError as exc:
        raise DataFileError(f"malformed JSON ({exc.msg} at column {exc.colno})", line=exc.lineno, path=path) from None
    if not isinstance(document, dict) or not isinstance(document.get("theorems"), list):
        raise DataFileError('expected an object with a "theorems" array', line=1, path=path)
    # Re-scan the array element by element so every theorem knows its own line number.
    # Lines are counted incrementally (each stretch of text once), so reading stays linear in the file's size.
    decoder = json.JSONDecoder()
    index = text.index("[", text.index('"theorems"')) + 1
    line, counted_to = 1, 0
    for _ in document["theorems"]:
        while text[index] in " \t\r\n,":
            index += 1
        try:
            item, end = decoder.raw_decode(text, index)
        except RecursionError:
            raise DataFileError("JSON nested too deeply", line=line, path=path) from None
        line += text.count("\n", counted_to, index)
        counted_to = index
        if not isinstance(item, dict):
            raise DataFileError("expected a theorem object", line=line, path=path)
        yield line, item
        index = end


def _field(record: dict, key: str, line: int, path: str, *, required: bool = True) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise DataFileError(f'missing field "{key}"', line=line, path=path)
        return ""
    if not isinstance(value, str):
        raise DataFileError(f'field "{key}" must be a string, got {type(value).__name__}', line=line, path=path)
    return value


def _checked_statement(statement: str, name: str, line: int, path: str, *, normalised: bool = False) -> str:
    if not normalised:
        statement = normalise_whitespace(statement)
    if not statement:
        raise DataFileError(f'theorem "{name}" has an empty statement', line=line, path=path)
    try:
        check_statement(statement, name=name)  # the very check the Lean pool applies before goal.start
    except UnsafeInputError as exc:
        raise DataFileError(
            f'theorem "{name}": the statement contains `{exc.token}` ({exc.reason}); statements must be '
            "expressions, never commands",
            line=line,
            path=path,
        ) from None
    return statement


def _name(record: dict, line: int, path: str) -> str:
    name = _field(record, "name", line, path).strip()
    if not name:
        raise DataFileError('field "name" is empty', line=line, path=path)
    if problem := name_error(name):
        raise DataFileError(f'field "name" {problem}', line=line, path=path)
    return name


def _unique(records: Iterable[TheoremRecord], path: str) -> Iterator[TheoremRecord]:
    """The records, refusing a name seen before; lazy, so an importer can store while it reads."""
    first_seen: dict[str, int] = {}
    for record in records:
        if record.name in first_seen:
            raise DataFileError(
                f'duplicate theorem name "{record.name}" (first seen on line {first_seen[record.name]})',
                line=record.line,
                path=path,
            )
        first_seen[record.name] = record.line
        yield record


def parse_benchmark_json(text: str, path: str = "") -> ParsedFile:
    def records() -> Iterator[TheoremRecord]:
        for line, item in _benchmark_items(text, path):
            name = _name(item, line, path)
            statement = _checked_statement(_field(item, "statement", line, path), name, line, path)
            yield TheoremRecord(name=name, statement=statement, line=line, split=item.get("split") or "")

    return ParsedFile("benchmark-json", _unique(records(), path))


def _declaration_record(record: dict, line: int, path: str) -> TheoremRecord:
    name = _name(record, line, path)
    formal = _field(record, "formal_statement", line, path)
    if not formal.strip():
        raise DataFileError(f'theorem "{name}" has an empty formal_statement', line=line, path=path)
    statement = _checked_statement(closed_statement_at(formal, line=line, path=path), name, line, path, normalised=True)
    return TheoremRecord(name=name, statement=statement, line=line, formal_statement=formal)


def parse_minif2f_lean4(text: str, path: str = "") -> ParsedFile:
    def records() -> Iterator[TheoremRecord]:
        for line, raw in _json_lines(text, path):
            record = _declaration_record(raw, line, path)
            record.split = _field(raw, "split", line, path, required=False)
            record.header = _field(raw, "header", line, path, required=False)
            record.informal_statement = _field(raw, "informal_statement", line, path, required=False)
            record.informal_proof = _field(raw, "informal_proof", line, path, required=False)
            record.lean_version = _field(raw, "lean_version", line, path, required=False)
            record.mathlib_version = _field(raw, "mathlib", line, path, required=False)
            record.source = _field(raw, "source", line, path, required=False)
            yield record

    return ParsedFile("minif2f-lean4", _unique(records(), path))


def parse_deepseek_prover(text: str, path: str = "") -> ParsedFile:
    def records() -> Iterator[TheoremRecord]:
        for line, raw in _json_lines(text, path):
            record = _declaration_record(raw, line, path)
            record.split = _field(raw, "split", line, path, required=False)
            record.header = _field(raw, "header", line, path, required=False)
            record.informal_statement = _field(raw, "informal_prefix", line, path, required=False)
            goal = _field(raw, "goal", line, path, required=False)
            if goal:
                record.extra["goal"] = goal
            yield record

    return ParsedFile("deepseek-prover", _unique(records(), path))


def parse_lean_workbook(text: str, path: str = "") -> ParsedFile:
    def records() -> Iterator[TheoremRecord]:
        for line, raw in _json_lines(text, path):
            record = _declaration_record(raw, line, path)
            subsets = raw.get("subsets")
            if subsets:
                record.extra["subsets"] = subsets
            yield record

    return ParsedFile("lean-workbook", _unique(records(), path))


def parse_proofs(text: str, path: str = "") -> ParsedFile:
    """Group proof records by theorem. A proof using sorry/admit/cheat is dropped; so is a theorem left with none."""
    by_name: dict[str, TheoremRecord] = {}
    rejected: list[tuple[str, int, str]] = []
    for line, raw in _json_lines(text, path):
        record = _declaration_record(raw, line, path)
        proof_text = _field(raw, "proof", line, path)
        tactics = raw.get("tactics") or ()
        if not isinstance(tactics, list | tuple) or not all(isinstance(t, str) for t in tactics):
            raise DataFileError('field "tactics" must be a list of strings', line=line, path=path)
        hatch = escape_hatch(proof_text) or next(filter(None, map(escape_hatch, tactics)), None)
        if hatch:
            rejected.append((record.name, line, f"proof uses `{hatch}`"))
            continue
        if not proof_text.strip():
            raise DataFileError(f'theorem "{record.name}" has an empty proof', line=line, path=path)
        theorem = by_name.get(record.name)
        if theorem is None:
            record.split = _field(raw, "split", line, path, required=False)
            record.source = _field(raw, "source", line, path, required=False)
            record.lean_version = _field(raw, "lean_version", line, path, required=False)
            theorem = by_name[record.name] = record
        elif theorem.statement != record.statement:
            raise DataFileError(
                f'theorem "{record.name}" has a different statement than on line {theorem.line}',
                line=line,
                path=path,
            )
        theorem.proofs.append(
            KnownProofRecord(
                proof=proof_text,
                source=_field(raw, "source", line, path, required=False),
                lean_version=_field(raw, "lean_version", line, path, required=False),
                full_code=_field(raw, "full_code", line, path, required=False),
                tactics=tuple(tactics),
                line=line,
            )
        )
    # A theorem with a sorry'd proof and no clean one is gone entirely: nothing above kept it.
    return ParsedFile("proofs", list(by_name.values()), rejected)


PARSERS: dict[str, Callable[[str, str], ParsedFile]] = {
    "benchmark-json": parse_benchmark_json,
    "minif2f-lean4": parse_minif2f_lean4,
    "deepseek-prover": parse_deepseek_prover,
    "proofs": parse_proofs,
    "lean-workbook": parse_lean_workbook,
}


def read_data_file(text: str, format: str, path: str = "") -> ParsedFile:
    """Start reading `text` in the named format. `theorems` may be lazy: a problem further down the file
    raises DataFileError (with its line) only when the reader gets there, so callers that store while they
    read must do it in a transaction."""
    if format not in PARSERS:
        raise DataFileError(f'unknown format "{format}"; expected one of: {", ".join(FORMATS)}', path=path)
    if not text.strip():
        raise DataFileError("the file is empty", path=path)
    return PARSERS[format](text, path)


def parse_data_file(text: str, format: str, path: str = "") -> ParsedFile:
    """Parse the whole of `text`; raises DataFileError with the line of the first problem."""
    parsed = read_data_file(text, format, path)
    parsed.theorems = list(parsed.theorems)
    if not parsed.theorems and not parsed.rejected:
        raise DataFileError("the file holds no theorems", path=path)
    return parsed


def read_theorem_file(path: str | os.PathLike, *, format: str = "auto", limit: int | None = None) -> list[TheoremRecord]:
    """The theorems of a data file on disk, in file order (at most `limit`): what the command line searches.

    The same readers and checks as an import; errors name the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError("no such file", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DataFileError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None
    parsed = parse_data_file(text, guess_format(str(path), text) if format == "auto" else format, str(path))
    return list(parsed.theorems)[:limit]


def guess_format(filename: str, text: str) -> str:
    """A best guess for files dropped in without a format: by shape of the first record."""
    stripped = text.lstrip()
    if stripped.startswith("{") and '"theorems"' in stripped[:200]:
        return "benchmark-json"
    first = stripped.splitlines()[0] if stripped else ""
    try:
        record = _loads(first, line=1, path=filename)
    except json.JSONDecodeError:
        raise DataFileError("cannot tell the format: the first line is not JSON", line=1, path=filename) from None
    if not isinstance(record, dict):
        raise DataFileError(f"expected a JSON object per theorem, got {type(record).__name__}", line=1, path=filename)
    if "proof" in record:
        return "proofs"
    if "goal" in record or "informal_prefix" in record:
        return "deepseek-prover"
    if "informal_statement" in record or "mathlib" in record:
        return "minif2f-lean4"
    if "subsets" in record or "formal_statement" in record:
        return "lean-workbook"
    raise DataFileError("cannot tell the format from the first record; pass --format", line=1, path=filename)
