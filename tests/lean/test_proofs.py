"""Proofs through a pool of real minilean processes: success, failures, start errors, checks, versions, safety."""

import json
import sys
from pathlib import Path

import pytest

from prover.lean import (
    LeanConfig,
    LeanPool,
    Outcome,
    ReplError,
    UnsafeInputError,
    VersionMismatchError,
    goal_key,
)

STATEMENT = "∀ (a b : ℕ), a < b → a < b"


async def test_a_proof_goes_from_statement_to_proof_complete(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            assert proof.initial.text.startswith("⊢ ∀")
            step = await proof.tactic(proof.root_state_id, "intro a b h")
            assert step.outcome is Outcome.NEW_GOALS
            assert step.text == "a : ℕ\nb : ℕ\nh : a < b\n⊢ a < b"
            done = await proof.tactic(step.state_id, "exact h")
            assert done.complete and done.goals == ()
        assert pool.stats().proofs == 1


async def test_failed_and_unparsable_tactics_leave_the_state_usable(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr="∀ (x : ℕ), x = x") as proof:
            root = proof.root_state_id
            failed = await proof.tactic(root, "exact h_missing")
            assert failed.outcome is Outcome.FAILED and failed.state_id is None and failed.feedback
            garbled = await proof.tactic(root, "intro x )")
            assert garbled.outcome is Outcome.PARSE_ERROR and garbled.feedback
            after = await proof.tactic(root, "intro x")
            assert after.outcome is Outcome.NEW_GOALS


async def test_same_goals_from_different_paths_share_a_dedupe_key(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            one = await proof.tactic(proof.root_state_id, "intro a b h")
            two = await proof.tactic(proof.root_state_id, "intro a\nintro b h")
            assert one.state_id != two.state_id
            assert goal_key(one.goals) == goal_key(two.goals)


async def test_bad_statement_is_a_lean_error_and_the_worker_lives_on(minilean):
    async with LeanPool(minilean()) as pool:
        with pytest.raises(ReplError) as info:
            async with pool.proof(expr="∀ (x : ℕ), x +"):
                pass
        assert info.value.kind in {"parsing", "elab"} and info.value.command == "goal.start"
        pid = pool.workers[0].pid
        async with pool.proof(expr=STATEMENT) as proof:
            assert proof.worker.pid == pid  # a Lean error is not a reason to restart


async def test_copy_from_a_theorem_file(minilean, tmp_path):
    theorems = tmp_path / "theorems.json"
    theorems.write_text(json.dumps({"theorems": [{"name": "add_zero_right", "statement": "∀ (n : ℕ), n = n"}]}))
    async with LeanPool(minilean(theorems_file=str(theorems))) as pool:
        async with pool.proof(copy_from="add_zero_right") as proof:
            assert "n = n" in proof.initial.text
            step = await proof.tactic(proof.root_state_id, "intro n")
            assert (await proof.tactic(step.state_id, "rfl")).complete
        with pytest.raises(ReplError, match="not_a_theorem") as info:
            async with pool.proof(copy_from="not_a_theorem"):
                pass
        assert info.value.kind == "index"


async def test_whole_proof_check_accepts_real_proofs_and_rejects_the_rest(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            await proof.tactic(proof.root_state_id, "intro a b h")
            used_pid = proof.worker.pid
        good = await pool.check_proof(STATEMENT, "intro a b h\nexact h")
        assert good.ok, good.reason
        assert pool.workers[0].pid != used_pid  # the check ran in a fresh process
        wrong = await pool.check_proof("∀ (a b : ℕ), a < b → b < a", "intro a b h\nexact h")
        assert not wrong.ok and wrong.errors
        cheat = await pool.check_proof(STATEMENT, "intro a b h\nsorry")
        assert not cheat.ok and cheat.has_sorry
        unfinished = await pool.check_proof(STATEMENT, "intro a b h")
        assert not unfinished.ok
        stats = pool.stats()
        assert (stats.checks, stats.checks_accepted) == (4, 1)


async def test_unsafe_input_never_reaches_a_process(minilean):
    async with LeanPool(minilean()) as pool:
        before = pool.stats().requests
        with pytest.raises(UnsafeInputError, match="'#eval'"):
            async with pool.proof(expr="∀ (x : ℕ), x = x\n#eval 1"):
                pass
        with pytest.raises(UnsafeInputError, match="'axiom'"):
            await pool.check_proof(STATEMENT, "intro a b h\naxiom cheat : False")
        assert pool.stats().requests == before
        async with pool.proof(expr=STATEMENT) as proof:
            started = pool.stats().requests
            with pytest.raises(UnsafeInputError, match="'run_cmd'"):
                await proof.tactic(proof.root_state_id, "run_cmd Lean.logInfo \"hi\"")
            assert pool.stats().requests == started
            assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok
        assert pool.stats().refused_inputs == 2


async def test_pool_reports_minilean_as_itself(minilean):
    async with LeanPool(minilean()) as pool:
        versions = pool.versions
        assert versions.backend == "minilean" and versions.pantograph == "0.3.4" and versions.lean is None
        assert pool.stats().versions == {"backend": "minilean", "lean": None, "mathlib": None, "pantograph": "0.3.4"}
        pool.require_dataset_version("v4.24.0", dataset="minif2f_lean4")  # a stand-in claims no Lean version


async def test_pantograph_pool_refuses_a_dataset_of_another_lean(process_mark):
    # A real program that answers the version handshake as Pantograph 0.3.4 does, then serves like one.
    fake_repl = (
        "import sys\n"
        "if sys.argv[1:] == ['--version']: print('0.3.4'); sys.exit(0)\n"
        "print('ready.', flush=True)\n"
        "for line in sys.stdin:\n"
        "    if not line.strip(): break\n"
        "    print('{}', flush=True)\n"
    )
    config = LeanConfig(
        program=(sys.executable, "-c", fake_repl), backend="pantograph", mathlib_version="v4.21.0",
        env={"BURNQED_LEAN_TEST_MARK": process_mark}, num_workers=1,
    )
    async with LeanPool(config) as pool:
        assert pool.stats().versions == {"backend": "pantograph", "lean": "4.21.0", "mathlib": "v4.21.0",
                                         "pantograph": "0.3.4"}
        pool.require_dataset_version("leanprover/lean4:v4.21.0")
        with pytest.raises(VersionMismatchError, match=r"lean-dojo-mew declares Lean .*nightly-2023-08-19.*4\.21\.0"):
            pool.require_dataset_version("leanprover/lean4:nightly-2023-08-19", dataset="lean-dojo-mew")
        pool.require_dataset_version("leanprover/lean4:nightly-2023-08-19", allow_mismatch=True)


async def test_stats_are_plain_json(minilean):
    async with LeanPool(minilean(num_workers=2)) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            await proof.tactic(proof.root_state_id, "intro a b h")
        stats = json.loads(json.dumps(pool.stats().as_dict()))
    assert stats["workers"] == 2 and stats["spawns"] == 2 and stats["proofs"] == 1
    assert stats["requests"] >= 2 and 0.0 < stats["busy_fraction"] <= 1.0


async def test_deleted_states_are_gone_and_stat_counts_them(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            step = await proof.tactic(proof.root_state_id, "intro a b h")
            assert await proof.stat() == 2
            await proof.delete([step.state_id])
            assert await proof.stat() == 1
            gone = await proof.tactic(step.state_id, "exact h")
            assert gone.outcome is Outcome.ERROR and gone.error_kind == "index"
        async with pool.proof(expr=STATEMENT) as proof:  # reset between proofs
            assert await proof.stat() == 1


async def test_a_benchmark_theorem_by_name_renders_one_hypothesis_per_line(minilean):
    benchmark = Path(__file__).resolve().parents[2] / "data" / "benchmarks" / "minif2f_test.json"
    async with LeanPool(minilean(theorems_file=str(benchmark))) as pool:
        async with pool.proof(copy_from="mathd_algebra_478") as proof:
            step = await proof.tactic(proof.root_state_id, "intro b h v h₀ h₁ h₂ h₃")
            assert step.text == (
                "b : ℝ\nh : ℝ\nv : ℝ\nh₀ : 0 < b ∧ 0 < h ∧ 0 < v\nh₁ : v = 1 / 3 * (b * h)\nh₂ : b = 30\n"
                "h₃ : h = 13 / 2\n⊢ v = 65"
            )
            substituted = await proof.tactic(step.state_id, "subst h₂ h₃")
            assert substituted.text.endswith("h₁ : v = 1 / 3 * (30 * (13 / 2))\n⊢ v = 65")


async def test_goal_id_picks_which_goal_the_tactic_acts_on(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr="∀ (a b : ℕ), a < b → b = b ∧ a < b") as proof:
            step = await proof.tactic(proof.root_state_id, "intro a b h")
            split = await proof.tactic(step.state_id, "constructor")
            assert [g.target for g in split.goals] == ["b = b", "a < b"]
            assert (await proof.tactic(split.state_id, "exact h")).outcome is Outcome.FAILED  # acts on b = b
            second = await proof.tactic(split.state_id, "exact h", goal_id=1)
            assert [g.target for g in second.goals] == ["b = b"]
            assert (await proof.tactic(second.state_id, "rfl")).complete
