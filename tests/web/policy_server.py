"""A scripted SGLang policy server in its own process, for runs driven by real Celery workers.

    python tests/web/policy_server.py --tactic linarith --tactic norm_num [--delay 0.2]

Every prompt gets the given tactics in turn (one per sample). Prints `PORT <n>` once it listens. The wire
format is the SGLang double of tests/policy (real HTTP, SGLang's /generate bodies).
"""

import argparse
import asyncio
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.policy.sglang_double import SGLangDouble  # noqa: E402


class CyclingDouble(SGLangDouble):
    def __init__(self, tactics: list[str]) -> None:
        super().__init__()
        self._cycle = itertools.cycle(tactics)

    def _generate_one(self, prompt, params):
        self.default_completion = next(self._cycle)
        return super()._generate_one(prompt, params)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tactic", action="append", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args()
    double = CyclingDouble(args.tactic)
    double.delay_s = args.delay
    await double.start(args.port)
    print("PORT", double.base_url.rsplit(":", 1)[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
