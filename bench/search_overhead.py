"""How much time the search engine itself costs, next to its backends.

1. Instant backends (in-process policy, verifier and scorer that return at once): expansions per
   second and engine time per expansion. Baseline: the same backend calls made directly, without the
   engine, so the ratio engine/baseline is what the engine adds on top of bare calls.
2. Backends that take a realistic 50 ms per call (asyncio.sleep): the share of wall time spent
   outside backend calls, per expansion. Baseline: the summed backend time.

Targets: under 1 ms of engine time per expansion; under 2% of wall time with 50 ms backends.

    python bench/search_overhead.py [--expansions 400] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._machine import machine_line  # noqa: E402
from prover.engine.backends import Backends  # noqa: E402
from prover.engine.config import SearchConfig  # noqa: E402
from prover.engine.inprocess import FunctionScorer, SyntheticPolicy, SyntheticVerifier  # noqa: E402
from prover.engine.search import search_theorem  # noqa: E402

STATEMENT = "∀ (n : ℕ), n + 0 = n"


def configs(expansions: int) -> dict[str, SearchConfig]:
    common = {"timeout_s": 3600.0, "max_nodes": expansions, "max_depth": 10_000}
    return {
        "best_first k=8": SearchConfig.for_strategy("best_first", num_candidates=8, **common),
        "hybrid 8 proofs x 4 tactics": SearchConfig.for_strategy(
            "hybrid", num_proofs=8, min_proofs=8, max_rounds=None, max_completions=None, **common),
    }


async def run_search(config: SearchConfig, latency_s: float) -> tuple[float, object, int]:
    backends = Backends(SyntheticVerifier(latency_s=latency_s), SyntheticPolicy(latency_s=latency_s),
                        FunctionScorer(lambda s: float(len(s)), latency_s=latency_s))
    events: list = []
    t0 = time.perf_counter()
    result = await search_theorem("bench", STATEMENT, config=config, backends=backends, on_event=events.append)
    return time.perf_counter() - t0, result, len(events)


async def bare_backend_calls(result) -> float:
    """Replay the same number of backend calls directly (no engine) with instant backends."""
    s = result.stats
    verifier, policy = SyntheticVerifier(), SyntheticPolicy()
    scorer = FunctionScorer(lambda x: float(len(x)))
    t0 = time.perf_counter()
    async with verifier.open_proof(STATEMENT) as session:
        for i in range(s.tactic_attempts):
            await session.tactic(0, f"tactic_{i}")
    per_call = max(1, s.completions // max(1, len(s.generate_latencies_us)))
    for _ in range(len(s.generate_latencies_us)):
        if result.strategy == "best_first":
            await policy.propose_tactics(["⊢ s"], per_call, max_tokens=48, temperature=0.8, top_p=0.95)
        else:
            await policy.propose_proofs("⊢ s", per_call, max_tokens=1024, temperature=0.8, top_p=0.95)
    per_batch = max(1, s.ebm_scored_states // max(1, s.ebm_score_calls))
    for _ in range(s.ebm_score_calls):
        await scorer.score(["⊢ s"] * per_batch, "⊢ g")
    return time.perf_counter() - t0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expansions", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--slow-expansions", type=int, default=20)
    args = parser.parse_args()
    print(machine_line())
    print(f"\n[1] instant in-process backends, {args.expansions} expansions per strategy")
    for name, config in configs(args.expansions).items():
        await run_search(config, 0.0)  # warm-up
        wall, result, n_events = await run_search(config, 0.0)
        bare = await bare_backend_calls(result)
        n = result.nodes_expanded
        engine_ms = (wall - bare) * 1000 / n
        print(f"  {name}: {n} expansions, {result.stats.tactic_attempts} tactics, {len(result.tree)} nodes, "
              f"{n_events} events in {wall * 1000:.1f} ms")
        print(f"    {n / wall:,.0f} expansions/s; engine time per expansion {engine_ms:.3f} ms "
              f"(target < 1 ms): {'OK' if engine_ms < 1 else 'MISSED'}")
        print(f"    baseline (same backend calls without the engine): {bare * 1000:.1f} ms; "
              f"ratio engine run / baseline = {wall / bare:.1f}x")

    latency = args.latency_ms / 1000
    print(f"\n[2] backends sleeping {args.latency_ms:.0f} ms per call, {args.slow_expansions} expansions per strategy")
    for name, config in configs(args.slow_expansions).items():
        wall, result, _ = await run_search(config, latency)
        s = result.stats
        backend_s = (s.generate_ms + s.lean_ms + s.ebm_ms + s.check_ms) / 1000
        share = (wall - backend_s) / wall
        print(f"  {name}: wall {wall:.2f} s, backend time (baseline) {backend_s:.2f} s, "
              f"ratio wall / baseline = {wall / backend_s:.4f}")
        print(f"    engine share of wall time {share:.2%} (target < 2%): {'OK' if share < 0.02 else 'MISSED'}; "
              f"non-backend time per expansion {(wall - backend_s) * 1000 / result.nodes_expanded:.3f} ms "
              f"({result.stats.tactic_attempts / result.nodes_expanded:.1f} Lean calls each; includes the "
              "event loop waking after every sleep)")


if __name__ == "__main__":
    asyncio.run(main())
