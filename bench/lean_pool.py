"""Round trips per second through `prover.lean.LeanPool` against a bare minilean process over a pipe.

    python bench/lean_pool.py [--requests 3000] [--repeats 3]

The tactic is `skip` on the root state: minilean does almost no work for it, so the figures are the
protocol's cost (JSON, pipes, process scheduling) and the pool's overhead on top: safety filter, envelope
encoding, watchdog, reply decoding and classification, asyncio. The baseline writes pre-encoded request
lines and reads reply lines with blocking I/O, the least a client can do. Best of `--repeats` runs each,
raw and pool interleaved so both see the same machine state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from prover.lean import LeanConfig, LeanPool  # noqa: E402

STATEMENT = "∀ (a b : ℕ), a < b → a < b"
TACTIC = "skip"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return f"{model}, {cores} cores usable, Python {platform.python_version()} on {platform.system()} {platform.release()}"


def raw_round_trips(requests: int) -> float:
    """Round trips per second on one bare minilean over a pipe, blocking I/O, no decoding."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "minilean"], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        reader = proc.stdout  # buffered: one read() per reply line, as any sane client does
        fd = proc.stdin.fileno()
        if reader.readline().strip() != b"ready.":
            raise SystemExit("minilean did not print ready.")
        start = json.dumps({"cmd": "goal.start", "payload": {"expr": STATEMENT}}, ensure_ascii=False) + "\n"
        os.write(fd, start.encode())
        state = json.loads(reader.readline())["stateId"]
        line = (json.dumps({"cmd": "goal.tactic", "payload": {"stateId": state, "tactic": TACTIC}}) + "\n").encode()

        def write(data: bytes) -> None:
            os.write(fd, data)

        readline = reader.readline
        for _ in range(50):  # warm-up
            write(line)
            readline()
        begin = time.perf_counter()
        for _ in range(requests):
            write(line)
            readline()
        elapsed = time.perf_counter() - begin
        return requests / elapsed
    finally:
        proc.stdin.close()  # EOF ends minilean
        proc.wait()


async def asyncio_round_trips(requests: int) -> float:
    """The same exchange through asyncio's subprocess streams and nothing else: the floor for any async client."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minilean", cwd=REPO_ROOT, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        await proc.stdout.readline()
        start = json.dumps({"cmd": "goal.start", "payload": {"expr": STATEMENT}}, ensure_ascii=False) + "\n"
        proc.stdin.write(start.encode())
        state = json.loads(await proc.stdout.readline())["stateId"]
        line = (json.dumps({"cmd": "goal.tactic", "payload": {"stateId": state, "tactic": TACTIC}}) + "\n").encode()
        for _ in range(50):
            proc.stdin.write(line)
            await proc.stdout.readline()
        begin = time.perf_counter()
        for _ in range(requests):
            proc.stdin.write(line)
            await proc.stdout.readline()
        return requests / (time.perf_counter() - begin)
    finally:
        proc.stdin.close()
        await proc.wait()


async def pool_round_trips(pool: LeanPool, requests: int, concurrent_proofs: int) -> float:
    """Round trips per second with `concurrent_proofs` proofs each running its share sequentially."""
    share = requests // concurrent_proofs

    async def one_proof() -> None:
        async with pool.proof(expr=STATEMENT) as proof:
            root = proof.root_state_id
            for _ in range(50):
                await proof.tactic(root, TACTIC)
            await ready.wait()
            for _ in range(share):
                result = await proof.tactic(root, TACTIC)
                if not result.ok:
                    raise SystemExit(f"unexpected failure: {result}")

    ready = asyncio.Event()
    tasks = [asyncio.create_task(one_proof()) for _ in range(concurrent_proofs)]
    await asyncio.sleep(0.2)  # every proof has started and warmed up
    begin = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    return share * concurrent_proofs / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"workload: {args.requests} x goal.tactic {TACTIC!r} on one state, best of {args.repeats}")

    raw_runs: list[float] = []
    bare_async_runs: list[float] = []
    pool_runs: dict[int, list[float]] = {1: [], 2: [], 4: []}
    pools = {n: LeanPool(LeanConfig.minilean(cwd=str(REPO_ROOT), num_workers=n)) for n in pool_runs}
    for pool in pools.values():
        await pool.start()
    try:
        for _ in range(args.repeats):
            raw_runs.append(await asyncio.to_thread(raw_round_trips, args.requests))
            bare_async_runs.append(await asyncio_round_trips(args.requests))
            for n, pool in pools.items():
                pool_runs[n].append(await pool_round_trips(pool, args.requests, n))
    finally:
        for pool in pools.values():
            await pool.close()

    raw = max(raw_runs)
    raw_us = 1e6 / raw
    print(f"raw pipe, 1 process      : {raw:9.0f} round trips/s  ({raw_us:7.1f} us each; runs: "
          f"{', '.join(f'{r:.0f}' for r in raw_runs)})")
    bare = max(bare_async_runs)
    print(f"bare asyncio, 1 process  : {bare:9.0f} round trips/s  ratio to raw {bare / raw:5.2f}  ({1e6 / bare:7.1f} us each; "
          f"runs: {', '.join(f'{r:.0f}' for r in bare_async_runs)})")
    for n, runs in pool_runs.items():
        best = max(runs)
        print(f"pool, {n} worker{'s' if n > 1 else ' '}, {n} proof{'s' if n > 1 else ' '}: {best:9.0f} round trips/s  "
              f"ratio to raw {best / raw:5.2f}  (runs: {', '.join(f'{r:.0f}' for r in runs)}; "
              f"median {statistics.median(runs):.0f})")
    one = max(pool_runs[1])
    overhead_us = 1e6 / one - raw_us
    print(f"pool overhead at 1 worker: {overhead_us:6.1f} us per request = {100 * overhead_us / raw_us:5.1f}% "
          f"of the raw round trip (target < 5%)")
    own_us = 1e6 / one - 1e6 / bare
    print(f"  of which asyncio itself: {1e6 / bare - raw_us:6.1f} us; the pool's own code: {own_us:6.1f} us "
          f"({100 * own_us / raw_us:5.1f}% of raw)")


if __name__ == "__main__":
    asyncio.run(main())
