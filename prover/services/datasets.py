"""Importing a data file as a Dataset: the one path used by the admin, `manage.py import_dataset` and the API."""

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from jobs.bulk import insert_rows
from jobs.errors import ServiceError
from prover.lean.safety import name_error
from theorem_data.errors import DataFileError
from theorem_data.formats import read_data_file
from theorem_data.known_issues import known_issue

from ..models import Dataset, KnownProof, Theorem, statement_hash

BATCH = 2000
THEOREM_COLUMNS = (
    "dataset_id", "name", "split", "statement", "formal_statement", "header", "informal_statement", "informal_proof",
    "content_hash", "flagged", "flag_reason", "extra",
)
PROOF_COLUMNS = ("theorem_id", "proof", "source", "lean_version", "full_code", "tactics")

Progress = Callable[[int, int], None]


@dataclass
class ImportSummary:
    dataset: Dataset
    theorems: int
    proofs: int
    flagged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f'imported {self.theorems} theorems into "{self.dataset.name}"']
        if self.proofs:
            parts.append(f"{self.proofs} known proofs")
        if self.flagged:
            parts.append(f"{len(self.flagged)} flagged as known-wrong ({', '.join(self.flagged)})")
        if self.rejected:
            parts.append(f"{len(self.rejected)} proofs rejected by the sorry filter")
        return "; ".join(parts)

    def as_dict(self) -> dict:
        """The counts and messages, as the API answers them and an import job keeps them."""
        return {
            "theorems": self.theorems,
            "proofs": self.proofs,
            "flagged": self.flagged,
            "rejected": [{"name": n, "line": line, "reason": why} for n, line, why in self.rejected],
            "message": self.describe(),
        }


def import_dataset(
    *,
    name: str,
    text: str,
    format: str,
    path: str = "",
    source: str = "",
    licence: str = "",
    lean_version: str = "",
    mathlib_version: str = "",
    notes: str = "",
    user=None,
    on_parsed: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Parse `text` and store it as a new dataset named `name`, all or nothing.

    Any problem in the file raises ServiceError naming the line; then nothing at all is saved. `on_parsed` hears
    the number of theorems read, before the transaction opens; `progress` hears (stored, total) as rows go in.
    """
    name = check_new_name(name)
    try:
        # Parsed in full before the transaction opens: on SQLite a write transaction locks the whole database,
        # and nobody else may wait on the reading of a large file.
        parsed = read_data_file(text, format, path)
        parsed.theorems = list(parsed.theorems)
        if on_parsed:
            on_parsed(len(parsed.theorems))
        with transaction.atomic():
            return _store(name=name, parsed=parsed, path=path, source=source, licence=licence,
                          lean_version=lean_version, mathlib_version=mathlib_version, notes=notes, user=user,
                          progress=progress)
    except DataFileError as exc:
        raise ServiceError(str(exc), field="file") from None


def check_new_name(name: str) -> str:
    """The name a new dataset may take (stripped), or a ServiceError on the `name` field."""
    name = name.strip()
    if not name:
        raise ServiceError("a dataset needs a name", field="name")
    if problem := name_error(name):
        raise ServiceError(f"the dataset name {problem}", field="name")
    if Dataset.objects.filter(name=name).exists():
        raise ServiceError(f'a dataset named "{name}" already exists; pick another name', field="name")
    return name


def _store(*, name, parsed, path, source, licence, lean_version, mathlib_version, notes, user, progress
           ) -> ImportSummary:
    """Store a parsed file: rows stream into COPY; a problem raises and the caller's transaction undoes
    everything."""
    records = iter(parsed.theorems)
    first = next(records, None)
    dataset = Dataset.objects.create(
        name=name,
        source=source or (first.source if first else ""),
        licence=licence,
        lean_version=lean_version or (first.lean_version if first else ""),
        mathlib_version=mathlib_version or (first.mathlib_version if first else ""),
        format=parsed.format,
        notes=notes,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    flagged: list[str] = []
    with_proofs: list = []
    expected = len(parsed.theorems)

    def rows():
        for count, record in enumerate(itertools.chain([first] if first else [], records), start=1):
            reason = known_issue(record.name, record.statement)
            if reason:
                flagged.append(record.name)
            if record.proofs:
                with_proofs.append(record)
            if progress and count % BATCH == 0:
                progress(count, expected)
            yield (
                dataset.pk, record.name, record.split, record.statement, record.formal_statement, record.header,
                record.informal_statement, record.informal_proof, statement_hash(record.statement), bool(reason),
                reason, json.dumps(record.extra),
            )

    insert_rows(Theorem._meta.db_table, THEOREM_COLUMNS, rows())
    count = Theorem.objects.filter(dataset=dataset).count()
    if count == 0 and not parsed.rejected:
        raise DataFileError("the file holds no theorems", path=path)
    if progress:
        progress(count, count)
    ids = dict(Theorem.objects.filter(dataset=dataset).values_list("name", "pk")) if with_proofs else {}
    proofs = [
        (ids[record.name], proof.proof, proof.source, proof.lean_version, proof.full_code, json.dumps(list(proof.tactics)))
        for record in with_proofs
        for proof in record.proofs
    ]
    insert_rows(KnownProof._meta.db_table, PROOF_COLUMNS, proofs)
    return ImportSummary(dataset, count, len(proofs), flagged, parsed.rejected)


def import_upload(*, upload, name: str, format: str = "auto", user=None, **fields: str) -> ImportSummary:
    """An uploaded file (admin form or API) through import_dataset: decoded as UTF-8, its format guessed when
    "auto". Every problem is a ServiceError on the `file` field unless it is about another field."""
    text, file_format = decoded_upload(upload, format)
    return import_dataset(name=name, text=text, format=file_format, path=upload.name, user=user, **fields)


def decoded_upload(upload, format: str) -> tuple[str, str]:
    """An upload's text and format, or a ServiceError on `file`: over the size cap, not UTF-8, format unknown."""
    from theorem_data.formats import guess_format

    cap = settings.BURNQED_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > cap:
        raise ServiceError(f"{upload.name}: {upload.size} bytes is more than the upload cap of {cap} bytes "
                           "(BURNQED_UPLOAD_MAX_BYTES)", field="file")
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ServiceError(f"{upload.name}: not UTF-8 text (byte {exc.start})", field="file") from None
    try:
        file_format = format if format != "auto" else guess_format(upload.name, text)
    except DataFileError as exc:
        raise ServiceError(str(exc), field="file") from None
    return text, file_format
