"""Queueing: proofs get workers in arrival order, a wait can time out or be cancelled without losing a
worker, several proofs run side by side on their own processes, and closing the pool fails the waiters."""

import asyncio
import sys

import pytest

from prover.lean import LeanConfig, LeanPool, PoolClosed, PoolTimeout, StateLost

STATEMENT = "∀ (a b : ℕ), a < b → a < b"


async def test_waiting_proofs_are_served_first_come_first_served(minilean):
    async with LeanPool(minilean()) as pool:
        served: list[int] = []
        holder_in = asyncio.Event()
        release = asyncio.Event()

        async def holder():
            async with pool.proof(expr=STATEMENT):
                holder_in.set()
                await release.wait()

        async def waiter(i: int):
            async with pool.proof(expr=STATEMENT) as proof:
                served.append(i)
                assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok

        hold = asyncio.create_task(holder())
        await holder_in.wait()
        waiters = []
        for i in range(6):
            waiters.append(asyncio.create_task(waiter(i)))
            await asyncio.sleep(0)  # let it join the queue before the next one arrives
        while pool.stats().queue_length < 6:
            await asyncio.sleep(0.001)
        release.set()
        await asyncio.gather(hold, *waiters)
        assert served == list(range(6))
        stats = pool.stats()
        assert stats.queue_waits == 7 and stats.queue_wait_max_s > 0 and stats.queue_length == 0


async def test_queue_timeout_and_cancellation_do_not_lose_the_worker(minilean):
    async with LeanPool(minilean()) as pool:
        async with pool.proof(expr=STATEMENT):
            with pytest.raises(PoolTimeout, match="no Lean worker free within 0.05 s"):
                async with pool.proof(expr=STATEMENT, wait_timeout_s=0.05):
                    pass
            cancelled = asyncio.create_task(pool.check_proof(STATEMENT, "intro a b h\nexact h"))
            while pool.stats().queue_length < 1:
                await asyncio.sleep(0.001)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        # the only worker is free again and reachable
        async with pool.proof(expr=STATEMENT, wait_timeout_s=30) as proof:
            assert (await proof.tactic(proof.root_state_id, "intro a b h")).ok
        assert pool.stats().queue_timeouts == 1


async def test_concurrent_proofs_each_keep_their_own_process_and_ids(minilean):
    async with LeanPool(minilean(num_workers=2)) as pool:

        async def prove(i: int) -> tuple[int, list[int]]:
            async with pool.proof(expr=f"∀ (a b : ℕ), a + {i} < b → a + {i} < b") as proof:
                ids = [proof.root_state_id]
                step = await proof.tactic(proof.root_state_id, "intro a b h")
                ids.append(step.state_id)
                # several tactics at once on one handle are serialised on its worker
                results = await asyncio.gather(*(proof.tactic(step.state_id, "exact h") for _ in range(3)))
                assert all(r.complete for r in results)
                assert f"a + {i} < b" in step.text
                return proof.worker.pid, ids

        outcomes = await asyncio.gather(*(prove(i) for i in range(6)))
        pids = {pid for pid, _ in outcomes}
        assert len(pids) == 2
        for _, ids in outcomes:  # reset between proofs: every proof starts at state 0 of its process
            assert ids == [0, 1]


async def test_closing_the_pool_fails_waiting_proofs(minilean):
    pool = LeanPool(minilean())
    await pool.start()
    entered = asyncio.Event()

    async def hold():
        async with pool.proof(expr=STATEMENT):
            entered.set()
            await asyncio.sleep(3600)

    holder = asyncio.create_task(hold())
    await entered.wait()
    waiting = asyncio.create_task(pool.check_proof(STATEMENT, "intro a b h\nexact h"))
    while pool.stats().queue_length < 1:
        await asyncio.sleep(0.001)
    holder.cancel()
    await pool.close()
    with pytest.raises(PoolClosed):
        await waiting
    with pytest.raises(asyncio.CancelledError):
        await holder
    with pytest.raises(PoolClosed):
        async with pool.proof(expr=STATEMENT):
            pass


async def test_closing_the_pool_cuts_a_hanging_request_short(minilean):
    # With a 600 s watchdog, only close() can end this request before pytest's own timeout.
    pool = LeanPool(minilean(request_timeout_s=600))
    await pool.start()
    async with pool.proof(expr=STATEMENT) as proof:
        sent = pool.stats().requests
        hung = asyncio.create_task(proof.tactic(proof.root_state_id, "minilean_sleep 3600"))
        while pool.stats().requests == sent:
            await asyncio.sleep(0)
        await pool.close()
        with pytest.raises(StateLost) as info:
            await hung
        assert info.value.cause == "closed"
        with pytest.raises(PoolClosed):
            await proof.tactic(proof.root_state_id, "intro a b h")
    assert pool.stats().restarts == {"closed": 1}


async def test_workers_import_one_at_a_time_when_told(process_mark, tmp_path):
    # Each scripted REPL marks itself as importing, looks for others doing the same, then unmarks.
    body = (
        "import os, sys, time, glob\n"
        f"d = {str(tmp_path)!r}\n"
        "if sys.argv[1:] == ['--version']: print('0.3.4'); sys.exit(0)\n"
        "me = os.path.join(d, f'importing-{os.getpid()}')\n"
        "open(me, 'w').close()\n"
        "time.sleep(0.3)\n"
        "others = len(glob.glob(os.path.join(d, 'importing-*'))) - 1\n"
        "open(os.path.join(d, f'overlap-{os.getpid()}-{others}'), 'w').close()\n"
        "os.remove(me)\n"
        "print('ready.', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    config = LeanConfig(program=(sys.executable, "-c", body), env={"BURNQED_LEAN_TEST_MARK": process_mark},
                        num_workers=3, spawn_concurrency=1)
    async with LeanPool(config):
        pass
    overlaps = sorted(p.name.rsplit("-", 1)[1] for p in tmp_path.glob("overlap-*"))
    assert overlaps == ["0", "0", "0"]
