"""What happens when a REPL hangs, dies, grows or gets old: the caller gets `StateLost`, the process is
killed and reaped, the next use gets a fresh one, and the counters say why."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from prover.lean import LeanConfig, LeanPool, ReplayError, ReplStartError, StateLost
from prover.lean.process import ReplProcess

STATEMENT = "∀ (a b : ℕ), a < b → a < b"


def reaped(pid: int) -> bool:
    return not psutil.pid_exists(pid)


def gone(pid: int) -> bool:
    """Dead: reaped, or at least no longer running (the fixture checks that it gets reaped)."""
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return True


async def test_a_hanging_tactic_is_killed_and_the_proof_can_restart(minilean):
    async with LeanPool(minilean(request_timeout_s=1.5)) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            hung_pid = proof.worker.pid
            step = await proof.tactic(proof.root_state_id, "intro a b h")
            with pytest.raises(StateLost) as info:
                await proof.tactic(step.state_id, "minilean_sleep 600")
            assert info.value.cause == "timeout" and "no reply within 1.5 s" in str(info.value)
            assert reaped(hung_pid)
            # the old ids belong to a dead process: refused, not silently mapped onto the new one
            with pytest.raises(StateLost, match="replaced"):
                await proof.tactic(step.state_id, "exact h")
            again = await proof.restart()
            assert proof.worker.pid != hung_pid
            step = await proof.tactic(again.state_id, "intro a b h")
            assert (await proof.tactic(step.state_id, "exact h")).complete
        stats = pool.stats()
    assert (stats.timeouts, stats.restarts, stats.states_lost) == (1, {"timeout": 1}, 1)


async def test_lean_cooperative_timeout_is_a_failed_tactic_not_a_restart(minilean):
    async with LeanPool(minilean(repl_options={"timeout": 200})) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            pid = proof.worker.pid
            result = await proof.tactic(proof.root_state_id, "sleep 5000")
            assert result.interrupted and not result.ok
            assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok
            assert proof.worker.pid == pid
        stats = pool.stats()
    assert (stats.interrupts, stats.timeouts, stats.restarts) == (1, 0, {})


async def test_worker_killed_by_sigkill_mid_proof(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            step = await proof.tactic(proof.root_state_id, "intro a b h")
            victim = proof.worker.pid
            os.kill(victim, signal.SIGKILL)
            with pytest.raises(StateLost) as info:
                await proof.tactic(step.state_id, "exact h")
            assert info.value.cause == "crash" and "killed by SIGKILL" in info.value.detail
            assert reaped(victim)
            await proof.restart()
        async with pool.proof(expr=STATEMENT) as proof:  # the slot was not lost
            assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok
        assert pool.stats().restarts == {"crash": 1}


async def test_repl_that_exits_mid_request(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            with pytest.raises(StateLost, match="exit code 7"):
                await proof.tactic(proof.root_state_id, "minilean_crash 7")
        async with pool.proof(expr=STATEMENT) as proof:
            assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok


async def test_worker_dead_between_proofs_is_replaced_at_checkout(minilean):
    async with LeanPool(minilean()) as pool:
        first = pool.workers[0].pid
        os.kill(first, signal.SIGKILL)
        while not gone(first):  # the kernel needs a moment; reaping is the pool's job, not ours
            await asyncio.sleep(0.01)
        async with pool.proof(expr=STATEMENT) as proof:
            assert proof.worker.pid != first
            assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok
        assert pool.stats().restarts == {"exited": 1}


async def test_recycled_after_max_requests(minilean):
    async with LeanPool(minilean(max_requests=4)) as pool:
        pids = []
        for _ in range(3):
            async with pool.proof(expr=STATEMENT) as proof:
                pids.append(proof.worker.pid)
                await proof.tactic(proof.root_state_id, "intro a b h")
        # each proof costs goal.start (+ goal.print), a tactic and the reset: 4 requests reached after one
        assert len(set(pids)) >= 2 and pids[0] != pids[1]
        assert pool.stats().restarts.get("requests", 0) >= 1


async def test_recycled_after_max_lifetime(minilean):
    async with LeanPool(minilean(max_lifetime_s=0.5)) as pool:
        first = pool.workers[0].pid
        await asyncio.sleep(0.6)
        async with pool.proof(expr=STATEMENT) as proof:
            assert proof.worker.pid != first
        assert pool.stats().restarts == {"age": 1}
        assert reaped(first)


async def test_memory_cap_recycles_between_proofs_and_stops_a_growing_proof(minilean):
    probe = LeanPool(minilean())
    async with probe:
        baseline_mb = psutil.Process(probe.workers[0].pid).memory_info().rss / 2**20
    cap = baseline_mb + 150
    async with LeanPool(minilean(memory_cap_mb=cap, memory_check_interval_s=0)) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            grown = proof.worker.pid
            assert (await proof.tactic(proof.root_state_id, "minilean_alloc 300")).ok
        async with pool.proof(expr=STATEMENT) as proof:  # recycled at checkout: no state was in use
            assert proof.worker.pid != grown
            assert (await proof.tactic(proof.root_state_id, "minilean_alloc 300")).ok
            with pytest.raises(StateLost) as info:  # mid-proof the cap costs the proof its states
                await proof.tactic(proof.root_state_id, "intro a b h")
            assert info.value.cause == "memory"
        stats = pool.stats()
    assert stats.memory_recycles == 2 and stats.restarts == {"memory": 2}


async def test_resource_limits_are_set_in_the_child(minilean):
    async with LeanPool(minilean(address_space_mb=3000, cpu_time_limit_s=900)) as pool:
        limits = {}
        for line in Path(f"/proc/{pool.workers[0].pid}/limits").read_text().splitlines()[1:]:
            name = line[:26].strip()
            limits[name] = line[26:].split()
        assert limits["Max address space"][:2] == [str(3000 * 2**20)] * 2
        assert limits["Max core file size"][:2] == ["0", "0"]
        assert limits["Max cpu time"][0] == "900"
        async with pool.proof(expr=STATEMENT) as proof:
            # past the address-space limit the allocation fails inside the REPL, not on the machine
            try:
                result = await proof.tactic(proof.root_state_id, "minilean_alloc 4000")
                assert not result.ok
            except StateLost as lost:
                assert lost.cause == "crash"


async def test_start_failures_explain_themselves(process_mark):
    env = {"BURNQED_LEAN_TEST_MARK": process_mark}
    missing = LeanConfig(program=("/nonexistent/pantograph-repl",), env=env)
    with pytest.raises(ReplStartError, match="cannot start"):
        await ReplProcess.spawn(missing)
    dies = LeanConfig(
        program=(sys.executable, "-c", "import sys; sys.stderr.write('Mathlib.olean not found\\n'); sys.exit(3)"), env=env
    )
    with pytest.raises(ReplStartError, match=r"(?s)exited \(exit code 3\) before 'ready.'.*Mathlib.olean not found"):
        await ReplProcess.spawn(dies)
    chatty = LeanConfig(program=(sys.executable, "-c", "print('uncaught exception: unknown package Mathlib')"), env=env)
    with pytest.raises(ReplStartError, match="expected 'ready.'.*uncaught exception"):
        await ReplProcess.spawn(chatty)
    silent = LeanConfig(program=(sys.executable, "-c", "import time; time.sleep(600)"), env=env, ready_timeout_s=0.5)
    with pytest.raises(ReplStartError, match="no 'ready.' line within 0.5 s"):
        await ReplProcess.spawn(silent)


async def test_pool_start_failure_leaves_nothing_running(process_mark):
    broken = LeanConfig(
        program=(sys.executable, "-c", "import sys; print('ready.' if len(sys.argv) == 1 else '0.3.4')"),
        env={"BURNQED_LEAN_TEST_MARK": process_mark},
        num_workers=2,
        ready_timeout_s=5,
    )
    # `--version` works, the REPL prints ready. and then exits at once: setup sees a dead process
    pool = LeanPool(broken.replace(repl_options={"timeout": 1000}))
    with pytest.raises(ReplStartError):
        await pool.start()


async def test_cancelled_tactic_does_not_leave_a_stale_reply_for_the_next_request(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            slow_pid = proof.worker.pid
            step = await proof.tactic(proof.root_state_id, "intro a b h")
            sent = pool.stats().requests
            slow = asyncio.create_task(proof.tactic(proof.root_state_id, "sleep 800"))
            while pool.stats().requests == sent:  # counted just before the line is written
                await asyncio.sleep(0)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            with pytest.raises(StateLost, match="replaced"):
                await proof.tactic(step.state_id, "exact h")
            again = await proof.restart()
            step = await proof.tactic(again.state_id, "intro a b h")
            # the answer is to this request, not the late reply of the cancelled one
            assert step.text == "a : ℕ\nb : ℕ\nh : a < b\n⊢ a < b"
            assert proof.worker.pid != slow_pid
        assert pool.stats().restarts == {"cancelled": 1}


def scripted_repl(body: str) -> tuple[str, ...]:
    """A real program speaking just enough of the protocol to misbehave in one precise way."""
    prelude = (
        "import sys, json\n"
        "if sys.argv[1:] == ['--version']: print('0.3.4'); sys.exit(0)\n"
        "print('ready.', flush=True)\n"
    )
    return (sys.executable, "-c", prelude + body)


async def test_garbled_reply_is_a_protocol_failure_and_stderr_is_kept(process_mark):
    body = (
        "for i in range(500): sys.stderr.write(f'trace line {i}\\n')\n"
        "sys.stderr.flush()\n"
        "sys.stdin.readline()\n"
        "print('uncaught exception: PANIC at Lean.Meta', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    config = LeanConfig(program=scripted_repl(body), env={"BURNQED_LEAN_TEST_MARK": process_mark},
                        num_workers=1, stderr_lines=50)
    async with LeanPool(config) as pool:
        with pytest.raises(StateLost) as info:
            async with pool.proof(expr=STATEMENT):
                pass
    # goal.start failed twice (the first loss looks like a worker that died unnoticed, so it is retried)
    assert info.value.cause == "protocol" and "PANIC at Lean.Meta" in info.value.detail
    assert "trace line 499" in info.value.stderr_tail and "trace line 0\n" not in info.value.stderr_tail
    assert pool.workers[0].stderr_tail(100).count("trace line") <= 50


async def test_parent_death_takes_the_repls_with_it(minilean, tmp_path):
    config = minilean(num_workers=2)
    script = tmp_path / "prover_that_dies.py"
    script.write_text(
        "import asyncio, sys\n"
        "from prover.lean import LeanConfig, LeanPool\n"
        f"config = LeanConfig.minilean(cwd={config.cwd!r}, env={dict(config.env)!r}, num_workers=2)\n"
        "async def main():\n"
        "    async with LeanPool(config) as pool:\n"
        "        print(' '.join(str(w.pid) for w in pool.workers), flush=True)\n"
        "        await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n"
    )
    parent = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cwd=config.cwd, env={**os.environ, **config.env}, stdout=asyncio.subprocess.PIPE
    )
    pids = [int(p) for p in (await parent.stdout.readline()).split()]
    assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    parent.kill()  # SIGKILL: no cleanup code runs in the parent
    await parent.wait()
    while not all(gone(p) for p in pids):  # PR_SET_PDEATHSIG delivers SIGKILL to each REPL
        await asyncio.sleep(0.02)


async def test_setup_commands_run_on_every_new_process_and_bad_ones_stop_the_start(minilean):
    config = minilean(preamble="open Real Nat Topology", repl_options={"timeout": 300}, request_timeout_s=1.5)
    async with LeanPool(config) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            with pytest.raises(StateLost):
                await proof.tactic(proof.root_state_id, "minilean_sleep 600")
            await proof.restart()  # the new process got the options again: Lean's timeout answers first
            assert (await proof.tactic(proof.root_state_id, "sleep 10000")).interrupted
    with pytest.raises(ReplStartError, match=r"setup options.set answered .*Nat expected"):
        async with LeanPool(minilean(repl_options={"timeout": "soon"})):
            pass


async def test_after_a_timeout_the_search_path_is_replayed_on_the_new_process(minilean):
    async with LeanPool(minilean(request_timeout_s=1.5)) as pool:
        async with pool.proof(expr=STATEMENT) as proof:
            path = [("intro a", None), ("intro b h", None)]
            state = proof.root_state_id
            for tactic, goal_id in path:
                reached = await proof.tactic(state, tactic, goal_id=goal_id)
                state = reached.state_id
            with pytest.raises(StateLost):
                await proof.tactic(state, "minilean_sleep 600")
            again = await proof.replay(path)
            assert again.text == reached.text and again.state_id is not None
            assert (await proof.tactic(again.state_id, "exact h")).complete
            with pytest.raises(ReplayError, match=r"replay step 1 \('exact nope'\) gave failed"):
                await proof.replay([("intro a b h", None), ("exact nope", None)])
