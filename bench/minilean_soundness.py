"""The long soundness search of minilean: random problems, every modelled tactic, an independent check of every
goal minilean closes (z3 with its own encoding, then exact evaluation on a grid). CI runs a bounded version
(tests/minilean/test_soundness_search.py); this one runs for a time budget and any number of seeds.

Figures: problems, scripts, closed goals, how each was checked, counterexamples (must be 0); throughput in
scripts per second, against a baseline measured in the same run: elaborating the statements alone (`skip`).

    python bench/minilean_soundness.py [--minutes 10] [--seed 0] [--scripts 14]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.setrecursionlimit(10000)

from bench._machine import machine_line  # noqa: E402
from minilean.frontend import check_declaration  # noqa: E402
from minilean.soundness import Generator, search  # noqa: E402


def baseline(seed: int, problems: int) -> float:
    """Statements per second when minilean only elaborates them (the floor of any tactic script)."""
    gen = Generator(random.Random(seed))
    texts = [gen.problem().statement() for _ in range(problems)]
    started = time.monotonic()
    for text in texts:
        check_declaration(f"theorem t {text} := by\n  skip")
    return problems / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--scripts", type=int, default=14, help="tactic scripts per problem")
    args = parser.parse_args()
    print(machine_line())
    base = baseline(args.seed, 200)
    total = None
    seed = args.seed
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline:
        left = deadline - time.monotonic()
        report = search(10**9, seed=seed, scripts_per_problem=args.scripts, deadline_s=min(left, 120.0))
        if total is None:
            total = report
        else:
            for name in ("problems", "scripts", "closed", "proved_true", "grid_only", "seconds"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.counterexamples += report.counterexamples
        for statement, script, point in report.counterexamples:
            print(f"COUNTEREXAMPLE (seed {seed}): theorem t {statement} := by {script}  -- false at {point}")
        seed += 1
    assert total is not None
    print("\n".join(total.lines()))
    rate = total.scripts / max(total.seconds, 1e-9)
    print(f"  seeds {args.seed}..{seed - 1}, {total.seconds:.0f} s: {rate:.1f} scripts/s; baseline (statement "
          f"elaboration only) {base:.1f}/s; ratio {rate / base:.2f}")
    return 1 if total.counterexamples else 0


if __name__ == "__main__":
    sys.exit(main())
