"""The CLI as a real process: minilean workers, a /generate double over HTTP, files written and read back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

import pytest

from prover.engine.trajectory import read_trajectories, summarize
from tests.engine.policy_double import GenerateDouble

ROOT = Path(__file__).resolve().parents[2]

THEOREMS = {"theorems": [
    {"name": "add_one", "statement": "∀ (x : ℝ) (h : x = 2), x + 1 = 3"},
    {"name": "add_comm_nat", "statement": "∀ (a b : ℕ), a + b = b + a"},
    {"name": "false_claim", "statement": "∀ (n : ℕ), n + 1 = n"},
    {"name": "unparsable", "statement": "∀ (x : ℝ), x +* 1 = 3"},
]}


def _double() -> GenerateDouble:
    return GenerateDouble(
        tactics=[("⊢ ∀ (x", ["intro x h"]), ("⊢ ∀ (a", ["intro a b"]), ("⊢ ∀ (n", ["intro n"]),
                 ("⊢ x + 1 = 3", ["linarith", "simp"]), ("⊢ a + b", ["omega"]), ("⊢ n + 1 = n", ["omega"])],
        proofs=[("⊢ ∀ (x", ["intro x h\n  exact h"]), ("⊢ x + 1 = 3", ["linarith"]),
                ("⊢ ∀ (a", ["intro a b\n  omega"]), ("⊢ ∀ (n", ["intro n\n  omega"])])


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "prover", *args, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


@contextlib.asynccontextmanager
async def serving_policy():
    # Started inside the test, so the server runs on the test's own event loop while the CLI calls it.
    double = _double()
    try:
        yield await double.start()
    finally:
        await double.stop()


@pytest.mark.timeout(180)
async def test_search_writes_trajectories_and_resumes(tmp_path):
    async with serving_policy() as policy_url:
        await _search_and_resume(tmp_path, policy_url)


async def _search_and_resume(tmp_path, policy_url):
    theorems = tmp_path / "tiny.json"
    theorems.write_text(json.dumps(THEOREMS), encoding="utf-8")
    out = tmp_path / "traj.parquet"
    common = ["--theorems", str(theorems), "--policy-url", policy_url, "--num-workers", "2", "--quiet"]
    code, stdout, stderr = await _cli("search", *common, "--output", str(out), "--strategy", "best_first",
                                      "--set", "num_candidates=2", "--set", "max_nodes=4", "--max-theorems", "3")
    assert code == 0, stderr
    assert "attempted 3  proved 2" in stdout and "minilean" in stdout
    assert summarize(out)["proved_theorems"] == 2 and summarize(out)["theorems"] == 3
    rows = read_trajectories(out).to_pylist()
    assert {r["strategy"] for r in rows} == {"best_first"}

    code, stdout, stderr = await _cli("search", *common, "--output", str(out), "--strategy", "best_first",
                                      "--set", "num_candidates=2", "--set", "max_nodes=4")
    assert code == 0, stderr
    assert "3 theorem(s) already done, 1 to go" in stdout
    assert "errors 1" in stdout and "unparsable" in stdout
    assert summarize(out)["theorems"] == 3  # the errored theorem is not written, so a rerun retries it

    code, stdout, stderr = await _cli("summary", "--input", str(out), "--json")
    assert code == 0 and json.loads(stdout)["proved_theorems"] == 2, stderr
    code, stdout, stderr = await _cli("export-proof-paths", str(out), "--output", str(tmp_path / "sft.jsonl"))
    assert code == 0, stderr
    steps = [json.loads(line) for line in (tmp_path / "sft.jsonl").read_text().splitlines()]
    assert {(s["theorem"], s["tactic"]) for s in steps} >= {("add_one", "linarith"), ("add_comm_nat", "omega")}


@pytest.mark.timeout(180)
async def test_eval_at_budgets_and_compare(tmp_path):
    async with serving_policy() as policy_url:
        await _eval_and_compare(tmp_path, policy_url)


async def _eval_and_compare(tmp_path, policy_url):
    theorems = tmp_path / "tiny.json"
    theorems.write_text(json.dumps(THEOREMS), encoding="utf-8")
    common = ["--theorems", str(theorems), "--policy-url", policy_url, "--num-workers", "2", "--quiet"]
    code, stdout, stderr = await _cli("eval", *common, "--output", str(tmp_path / "hybrid.json"),
                                      "--strategy", "hybrid", "--set", "num_proofs=1", "--set", "min_proofs=1",
                                      "--budget-kind", "rounds", "--budgets", "1,3")
    assert code == 0, stderr
    data = json.loads((tmp_path / "hybrid.json").read_text())
    small, large = data["results"]
    assert (small["budget"], large["budget"]) == (1, 3)
    assert large["total"] == 4 and large["solved"] == 2 and large["errors"] == 1  # denominator = file size
    assert small["solved"] == 1  # add_one needs a 2nd round: `exact h` fails, `linarith` from the new leaf
    assert large["verifier"] == "minilean" and large["rate"] == 0.5
    names = {r["name"]: r for r in large["per_theorem"]}
    assert names["unparsable"]["failure_reason"] == "error" and names["unparsable"]["error"]
    assert names["add_one"]["proof_tactics"] == ["intro x h", "linarith"]

    code, stdout, stderr = await _cli("eval", *common, "--output", str(tmp_path / "pass.json"),
                                      "--strategy", "pass_at_n", "--set", "pass_n=1",
                                      "--budget-kind", "completions", "--budgets", "1")
    assert code == 0, stderr
    code, stdout, stderr = await _cli("compare", str(tmp_path / "pass.json"), str(tmp_path / "hybrid.json"),
                                      "--json")
    assert code == 0, stderr
    verdict = json.loads(stdout)
    assert verdict["only_a"] == [] and "add_comm_nat" in verdict["both"]
    assert verdict["totals"] == [4, 4]
    code, stdout, stderr = await _cli("compare", str(tmp_path / "pass.json"), str(tmp_path / "hybrid.json"))
    assert code == 0, stderr
    assert "proved only by A (0)" in stdout and "at <=" in stdout


async def test_bad_arguments_exit_2_with_a_message(tmp_path):
    code, _, stderr = await _cli("search", "--theorems", str(tmp_path / "absent.json"), "--output",
                                 str(tmp_path / "x.parquet"))
    assert code == 2 and "absent.json: no such file" in stderr
    (tmp_path / "bad.json").write_text('{"theorems": [{"name": "x"}]}')
    code, _, stderr = await _cli("search", "--theorems", str(tmp_path / "bad.json"), "--output",
                                 str(tmp_path / "x.parquet"))
    assert code == 2 and 'bad.json, line 1: missing field "statement"' in stderr
