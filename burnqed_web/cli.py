"""`burnqed <command>`: one entry point for everything a user runs.

    burnqed serve [--port 8000]          the whole service on this machine (manage.py serve)
    burnqed search|eval|summary|export-proof-paths ...   the search engine on files, no database
    burnqed compare A B                  two result files (from `eval`), or two runs of the service by id
    burnqed train sft|ebm ...            a training loop on files, no database
    burnqed import FILE [--format ...]   a data file as a new dataset of the service
    burnqed manage ...                   any other manage.py command

Each command's own `--help` tells its options.
"""

import os
import sys
from collections.abc import Sequence

ENGINE = ("search", "eval", "summary", "export-proof-paths")
DJANGO = {"serve": "serve", "import": "import_dataset"}


def _django(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["burnqed", *argv])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command in ENGINE or (command == "compare" and not all(a.isdigit() for a in rest[:2] if a)):
        from prover.engine.cli import main as engine

        return engine([command, *rest])
    if command == "compare":
        return _django(["compare_runs", *rest])
    if command == "train":
        from training.__main__ import main as train

        return train(rest)
    if command in DJANGO:
        return _django([DJANGO[command], *rest])
    if command == "manage":
        return _django(rest)
    print(f"burnqed: unknown command {command!r}\n\n{__doc__.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
