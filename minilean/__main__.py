"""Command line of minilean.

    python -m minilean [--theorems FILE] [--solver-timeout-ms N] [--crash-after N]   serve the protocol
    python -m minilean --version                                                   print the protocol version
    python -m minilean --check [FILE ...]   soundness search, real-proof replay by source, coverage (one run)

See `minilean/protocol.py` for the protocol and `minilean/tactics/debug.py` for the misbehaving tactics
(`sleep`, `minilean_sleep`, `minilean_alloc`, `minilean_crash`). `--crash-after N` makes the process exit
(status 3) when request N+1 arrives, without answering it. Lean-style arguments (`Mathlib`, `--maxHeartbeats=0`)
are accepted and ignored so the same command line works for both programs.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        from .protocol import VERSION

        print(VERSION)
        return 0
    parser = argparse.ArgumentParser(prog="python -m minilean", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--theorems", help="benchmark JSON or miniF2F-lean4 JSONL whose names goal.start copyFrom knows")
    parser.add_argument("--check", metavar="FILE", nargs="*", default=None,
                        help="print the soundness search, real-proof replay and coverage figures (benchmarks: "
                             "FILE..., default miniF2F valid and test)")
    parser.add_argument("--soundness-problems", type=int, default=200, help="size of the soundness search of --check")
    parser.add_argument("--seed", type=int, default=0, help="seed of the soundness search of --check")
    parser.add_argument("--proofs", default="data/proofs", help="folder of known proofs for --check")
    parser.add_argument("--solver-timeout-ms", type=int, default=5000, help="per-call limit of decision procedures")
    parser.add_argument("--mathlib", type=int, default=2025, choices=(2023, 2024, 2025),
                        help="follow this Lean/Mathlib era where versions differ (docs/minilean-lean-facts.md)")
    parser.add_argument("--crash-after", type=int, default=None, help="debug: exit when request N+1 arrives")
    args, extra = parser.parse_known_args(argv)
    unknown = [a for a in extra if a.startswith("-") and not (a.startswith("--") and "=" in a)]
    if unknown:
        parser.error(f"unrecognised arguments: {' '.join(unknown)}")
    sys.setrecursionlimit(10000)
    if args.check is not None:
        from .check import run_check

        return run_check(args.check, args.proofs, solver_ms=min(args.solver_timeout_ms, 3000),
                         soundness_problems=args.soundness_problems, seed=args.seed)
    from .protocol import Server, serve

    server = Server(theorems_path=args.theorems, solver_ms=args.solver_timeout_ms, mathlib=args.mathlib)
    return serve(server, crash_after=args.crash_after)


if __name__ == "__main__":
    sys.exit(main())
