"""`python -m training <command> ...`: a tiny dispatcher; each command's module has `main(argv) -> int`."""

import importlib
import sys

COMMANDS = {
    "sft": "training.sft.cli",
    "ebm": "training.ebm.cli",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m training {{{','.join(COMMANDS)}}} ...", file=sys.stderr)
        return 2
    return int(importlib.import_module(COMMANDS[argv[0]]).main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
