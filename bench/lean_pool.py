"""Round trips per second through `prover.lean.LeanPool` against a bare minilean process over a pipe.

    python bench/lean_pool.py [--requests 2000] [--repeats 5]

Workload 1 is `skip` on the root state: minilean does almost no work for it, so the figures are the
protocol's cost (JSON, pipes, process scheduling) plus the pool's overhead on top of it: safety filter,
envelope encoding, watchdog, reply decoding and classification, asyncio. Workload 2 is `sleep 1`, a
tactic that takes one millisecond, the low end of what real Lean tactics cost.

Baselines measured in the same run: "raw" writes pre-encoded request lines and reads reply lines with
blocking I/O, the least any client can do; "bare asyncio" does the same through asyncio's subprocess
streams, the floor for any asyncio client. Best of `--repeats` runs, all variants interleaved so they
see the same machine load. "client CPU" is this process's CPU time per request (less noisy than wall
time on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from prover.lean import LeanConfig, LeanPool  # noqa: E402

STATEMENT = "∀ (a b : ℕ), a < b → a < b"
WARMUP = 50


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return f"{model}, {cores} cores usable, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def request_lines(tactic: str) -> tuple[bytes, bytes]:
    start = json.dumps({"cmd": "goal.start", "payload": {"expr": STATEMENT}}, ensure_ascii=False) + "\n"
    step = json.dumps({"cmd": "goal.tactic", "payload": {"stateId": 0, "tactic": tactic}}) + "\n"
    return start.encode(), step.encode()


def raw_run(tactic: str, requests: int) -> tuple[float, float]:
    """(round trips/s, client CPU us per request) on one bare minilean, blocking I/O, no decoding."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "minilean"], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        fd, readline = proc.stdin.fileno(), proc.stdout.readline  # buffered reads: one read() per reply
        if readline().strip() != b"ready.":
            raise SystemExit("minilean did not print ready.")
        start, step = request_lines(tactic)
        os.write(fd, start)
        readline()
        for _ in range(WARMUP):
            os.write(fd, step)
            readline()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            os.write(fd, step)
            readline()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return requests / wall, cpu / requests * 1e6
    finally:
        proc.stdin.close()  # EOF ends minilean
        proc.wait()


async def bare_asyncio_run(tactic: str, requests: int) -> tuple[float, float]:
    """The same exchange through asyncio's subprocess streams and nothing else."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "minilean", cwd=REPO_ROOT, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        await proc.stdout.readline()
        start, step = request_lines(tactic)
        proc.stdin.write(start)
        await proc.stdout.readline()
        for _ in range(WARMUP):
            proc.stdin.write(step)
            await proc.stdout.readline()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            proc.stdin.write(step)
            await proc.stdout.readline()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return requests / wall, cpu / requests * 1e6
    finally:
        proc.stdin.close()
        await proc.wait()


async def pool_run(pool: LeanPool, tactic: str, requests: int) -> tuple[float, float]:
    """One proof per worker, each sending its share of the requests one after another."""
    proofs = pool.size
    share = requests // proofs
    go = asyncio.Event()
    warmed = 0
    all_warm = asyncio.Event()

    async def one_proof() -> None:
        nonlocal warmed
        async with pool.proof(expr=STATEMENT) as proof:
            root = proof.root_state_id
            for _ in range(WARMUP):
                await proof.tactic(root, tactic)
            warmed += 1
            if warmed == proofs:
                all_warm.set()
            await go.wait()
            for _ in range(share):
                result = await proof.tactic(root, tactic)
                if not result.ok:
                    raise SystemExit(f"unexpected failure: {result}")

    tasks = [asyncio.create_task(one_proof()) for _ in range(proofs)]
    await all_warm.wait()
    cpu, wall = time.process_time(), time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return share * proofs / wall, cpu / (share * proofs) * 1e6


async def workload(tactic: str, requests: int, repeats: int, pools: dict[int, LeanPool]) -> None:
    print(f"\nworkload: {requests} x goal.tactic {tactic!r} on one state, best of {repeats}")
    runs: dict[str, list[tuple[float, float]]] = {"raw": [], "bare": [], **{f"pool{n}": [] for n in pools}}
    for _ in range(repeats):
        runs["raw"].append(await asyncio.to_thread(raw_run, tactic, requests))
        runs["bare"].append(await bare_asyncio_run(tactic, requests))
        for n, pool in pools.items():
            runs[f"pool{n}"].append(await pool_run(pool, tactic, requests))

    def best(key: str) -> tuple[float, float]:
        rate = max(r for r, _ in runs[key])
        cpu = min(c for _, c in runs[key])
        return rate, cpu

    def spread(key: str) -> str:
        return ", ".join(f"{r:.0f}" for r, _ in runs[key])

    raw, raw_cpu = best("raw")
    raw_us = 1e6 / raw
    print(f"  raw pipe, 1 process       : {raw:8.0f} round trips/s  {raw_us:8.1f} us each  client CPU "
          f"{raw_cpu:6.1f} us  (runs {spread('raw')})")
    bare, bare_cpu = best("bare")
    print(f"  bare asyncio, 1 process   : {bare:8.0f} round trips/s  {1e6 / bare:8.1f} us each  client CPU "
          f"{bare_cpu:6.1f} us  ratio to raw {bare / raw:4.2f}")
    for n in pools:
        rate, cpu = best(f"pool{n}")
        label = f"pool, {n} worker{'s' if n > 1 else ''}, {n} proof{'s' if n > 1 else ''}"
        print(f"  {label:26}: {rate:8.0f} round trips/s  {1e6 / rate:8.1f} us each  client CPU {cpu:6.1f} us  "
              f"ratio to raw {rate / raw:4.2f}  (runs {spread(f'pool{n}')})")
    one, one_cpu = best(f"pool{min(pools)}")
    overhead = 1e6 / one - raw_us
    print(f"  pool overhead at 1 worker : {overhead:7.1f} us per request = {100 * overhead / raw_us:6.1f}% of the raw "
          f"round trip (target < 5%)")
    print(f"    client CPU per request  : raw {raw_cpu:.1f} us, bare asyncio {bare_cpu:.1f} us, pool {one_cpu:.1f} us "
          f"(the pool's own code: {one_cpu - bare_cpu:.1f} us)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per run of the cheap workload")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    pools = {n: LeanPool(LeanConfig.minilean(cwd=str(REPO_ROOT), num_workers=n)) for n in (1, 2, 4)}
    for pool in pools.values():
        await pool.start()
    try:
        await workload("skip", args.requests, args.repeats, pools)
        await workload("sleep 1", max(100, args.requests // 8), max(1, args.repeats - 2), pools)
    finally:
        for pool in pools.values():
            await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
