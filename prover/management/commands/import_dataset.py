from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from theorem_data.errors import DataFileError
from theorem_data.formats import FORMATS, guess_format

from ...services import ServiceError, import_dataset


class Command(BaseCommand):
    help = "Import a benchmark, proof or statement file as a new dataset (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=FORMATS, help="default: guessed from the first record")
        parser.add_argument("--name", help="dataset name (default: the file name without extension)")
        parser.add_argument("--source", default="")
        parser.add_argument("--licence", default="")
        parser.add_argument("--lean-version", default="")
        parser.add_argument("--mathlib-version", default="")
        parser.add_argument("--notes", default="")

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        with tqdm(desc=f"importing {path.name}", unit="thm", disable=options["verbosity"] == 0) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                summary = import_dataset(
                    name=options["name"] or path.stem,
                    text=text,
                    format=options["format"] or guess_format(str(path), text),
                    path=str(path),
                    source=options["source"],
                    licence=options["licence"],
                    lean_version=options["lean_version"],
                    mathlib_version=options["mathlib_version"],
                    notes=options["notes"],
                    progress=progress,
                )
            except (ServiceError, DataFileError) as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(summary.describe()))
