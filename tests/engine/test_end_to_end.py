"""End to end on real parts: prover.serving (a tiny random Llama built here) for /encode and /generate,
minilean workers through prover.lean's pool, the energy head scoring over /encode, every strategy.

The policy that must FIND proofs is the /generate double (a random model proves nothing); a separate run
drives search with the real server's /generate to show that path works end to end too.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from prover.engine.adapters import StackSettings, open_backends
from prover.engine.config import SearchConfig
from prover.engine.runner import search_theorems
from prover.engine.theorems import TheoremStatement as Theorem
from prover.engine.trajectory import TrajectoryWriter, read_trajectories
from prover.serving.tiny_model import build_tiny_llama
from prover.value import EnergyHeadConfig, GoalConditionedEnergyHead, save_energy_head
from tests.engine.policy_double import GenerateDouble

ROOT = Path(__file__).resolve().parents[2]
THEOREMS = [Theorem("add_one", "∀ (x : ℝ) (h : x = 2), x + 1 = 3"),
            Theorem("add_comm_nat", "∀ (a b : ℕ), a + b = b + a"),
            Theorem("two_goals", "∀ (x : ℝ) (h : x = 2), x + 1 = 3 ∧ 0 < x")]
TWO_GOALS = "x : ℝ\nh : x = 2\n⊢ x + 1 = 3\n\nx : ℝ\nh : x = 2\n⊢ 0 < x"


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    model = build_tiny_llama(tmp_path_factory.mktemp("engine-tiny-llama"), seed=3)
    proc = subprocess.Popen([sys.executable, "-m", "prover.serving", "--model", str(model), "--port", "0",
                             "--dtype", "fp32", "--seed", "0", "--threads", "1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, seen, deadline = None, [], time.monotonic() + 120
    assert proc.stdout is not None
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "ready on " in line:
            url = line.split("ready on ", 1)[1].strip()
    if url is None:
        proc.kill()
        pytest.fail("prover.serving did not start:\n" + "".join(seen[-30:]))
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def energy_head_dir(tmp_path_factory):
    torch.manual_seed(0)
    head = GoalConditionedEnergyHead(EnergyHeadConfig.for_embedding_dim(64, backbone_id="tests/tiny-llama"))
    return str(save_energy_head(head, tmp_path_factory.mktemp("ebm")))


def _double() -> GenerateDouble:
    return GenerateDouble(
        tactics=[("⊢ ∀ (x", ["intro x h", "norm_num"]), ("⊢ ∀ (a", ["intro a b"]),
                 ("⊢ x + 1 = 3 ∧", ["constructor"]), ("⊢ x + 1 = 3", ["simp", "linarith"]),
                 ("⊢ 0 < x", ["linarith"]), ("⊢ a + b", ["omega"])],
        proofs=[("⊢ ∀ (x", ["intro x h\n  exact h", "intro x h\n  nlinarith [h]"]),
                ("⊢ x + 1 = 3 ∧", ["constructor\n  linarith\n  linarith"]),
                ("⊢ x + 1 = 3", ["linarith"]), ("⊢ ∀ (a", ["intro a b\n  omega"])])


CONFIGS = {
    "best_first": SearchConfig.for_strategy("best_first", num_candidates=2, max_nodes=10, timeout_s=120),
    "hybrid": SearchConfig.for_strategy("hybrid", num_proofs=2, min_proofs=1, max_proof_tokens=64,
                                        min_proof_tokens=32, max_rounds=5, timeout_s=120),
    "pass_at_n": SearchConfig.for_strategy("pass_at_n", pass_n=2, pass_max_tokens=64, timeout_s=120),
}


@contextlib.asynccontextmanager
async def serving_double():
    double = _double()
    try:
        yield double, await double.start()
    finally:
        await double.stop()


@pytest.mark.timeout(240)
@pytest.mark.parametrize("strategy", ["best_first", "hybrid", "pass_at_n"])
async def test_every_strategy_proves_easy_statements_on_real_parts(strategy, serving, energy_head_dir, tmp_path):
    events: list = []
    path = tmp_path / f"{strategy}.parquet"
    async with serving_double() as (double, policy_url):
        settings = StackSettings(policy_url=policy_url, encoder_url=serving, ebm_path=energy_head_dir,
                                 num_workers=2)
        async with open_backends(settings) as backends:
            with TrajectoryWriter(path) as writer:
                results = await search_theorems(THEOREMS, config=CONFIGS[strategy], backends=backends,
                                                concurrency=2, writer=writer, on_event=events.append)
    by_name = {r.theorem_name: r for r in results}
    # pass@N samples only at the root, where the double never proposes `constructor`.
    expected = {"add_one", "add_comm_nat"} | ({"two_goals"} if strategy != "pass_at_n" else set())
    assert {n for n, r in by_name.items() if r.proved} == expected, {
        n: (r.failure_reason, r.error) for n, r in by_name.items()}
    if strategy != "pass_at_n":
        # Multi-goal: `constructor` leaves two goals, the first `linarith` closes one, the second the other.
        two = by_name["two_goals"]
        assert two.proof_tactics == ["intro x h", "constructor", "linarith", "linarith"]
        both = next(n for n in two.tree if n.state_text == TWO_GOALS)
        assert len(both.goals) == 2 and both.status.value == "proved"
        assert two.tree.root.status.value == "proved"
    else:
        assert by_name["two_goals"].failure_reason.value == "budget_exhausted"
    assert by_name["add_comm_nat"].proof_tactics == ["intro a b", "omega"]
    if strategy == "pass_at_n":
        assert by_name["add_one"].proof_tactics == ["intro x h", "nlinarith [h]"]
    else:
        assert by_name["add_one"].proof_tactics[-1] in ("linarith", "nlinarith [h]")
    assert all(e.to_dict()["verified"] for e in events if e.type == "proof_found")
    # The EBM really scored states through the server's /encode: finite energies, no failure sentinel.
    scored = [s for e in events if e.type == "nodes_scored" for s in e.scores]
    assert scored and all(s["energy"] is not None and abs(s["energy"]) < 1e5 for s in scored)
    assert not any(e.error for e in events if e.type == "nodes_scored")
    assert all(r.stats.ebm_failures == 0 and r.stats.completion_tokens > 0 for r in results)
    assert double.requests  # the policy was reached over HTTP

    rows = read_trajectories(path).to_pylist()
    assert {r["theorem_name"] for r in rows} == {t.name for t in THEOREMS}
    positives = [r for r in rows if r["label"] == "positive"]
    assert {r["remaining_depth"] for r in positives if r["theorem_name"] == "add_comm_nat"} == {0, 1, 2}
    roots = [r for r in rows if r["parent_state_id"] is None]
    assert all(r["energy"] is not None for r in roots)  # the root is scored before the first round
    json.dumps([e.to_dict() for e in events])


@pytest.mark.timeout(240)
async def test_search_with_the_real_generate_server(serving, energy_head_dir):
    """A random tiny model proves nothing, but every step of the real path runs: prompts, sampling,
    splitting, replay in minilean, scoring; the search ends on a budget, never on an error."""
    settings = StackSettings(policy_url=serving, encoder_url=serving, ebm_path=energy_head_dir, num_workers=1)
    config = SearchConfig.for_strategy("hybrid", num_proofs=2, min_proofs=1, max_proof_tokens=24,
                                       min_proof_tokens=8, max_rounds=2, timeout_s=120)
    async with open_backends(settings) as backends:
        [result] = await search_theorems(THEOREMS[:1], config=config, backends=backends)
    assert result.failure_reason.value in ("max_rounds", "frontier_exhausted", "proved"), result.error
    assert result.stats.completions >= 2 and result.stats.completion_tokens > 0
    assert result.stats.prompt_tokens > 0 and result.stats.generate_ms > 0


@pytest.mark.timeout(120)
async def test_a_tactic_that_crashes_the_lean_worker_is_survived():
    """docs/search.md#verifier-failures on real processes: the crash is retried once on the replacement process,
    crashes it too and is a failed tactic; the proof goes on, the states it needs are rebuilt by replay, and the
    proof is still found and re-checked."""
    double = GenerateDouble(tactics=[("⊢ ∀ (x", ["intro x h"]), ("⊢ x + 1 = 3", ["minilean_crash", "linarith"])])
    url = await double.start()
    try:
        async with open_backends(StackSettings(policy_url=url, num_workers=1)) as backends:
            config = SearchConfig.for_strategy("best_first", num_candidates=2, max_nodes=5)
            [result] = await search_theorems(THEOREMS[:1], config=config, backends=backends)
    finally:
        await double.stop()
    assert result.proved and result.proof_tactics == ["intro x h", "linarith"], result.error
    assert result.stats.verifier_restarts == 2 and result.stats.states_rebuilt == 2
    crashed = next(n for n in result.tree if n.tactic == "minilean_crash")
    assert crashed.status.value == "failed" and "lost" in crashed.error
