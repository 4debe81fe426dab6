"""The disk full while a trajectory is written: the previous file stays intact (written atomically, temp + rename),
the partial temp file does not linger, and the job says why it failed."""

import os
import signal

import pyarrow.parquet as pq
import pytest

from prover.engine.trajectory import TrajectoryWriter, read_trajectories
from prover.execution.trajectories import run_trajectory_path
from prover.models import Run, TheoremResult
from prover.services import import_dataset, launch_run
from tests.conftest import start_worker
from tests.engine.conftest import verifier  # noqa: F401  (a fixture)
from tests.engine.test_trajectory import _proved
from tests.faults.disk import fill, small_disk
from tests.web.test_run_lifecycle import EASY, config, start_policy, wait_finished


async def test_a_trajectory_rewrite_on_a_full_disk_keeps_the_previous_file(tmp_path, verifier):  # noqa: F811
    results = [await _proved(verifier, f"t{i}") for i in range(60)]
    with small_disk(tmp_path / "disk", 256) as disk:
        path = disk / "chunk.parquet"
        with pytest.raises(OSError) as caught:
            with TrajectoryWriter(path, flush_every=1) as writer:
                writer.add(results[0])
                before = path.read_bytes()
                fill(disk)
                for later in results[1:]:  # each add rewrites the whole file: one of them no longer fits
                    writer.add(later)
        assert "No space left on device" in str(caught.value) and str(path) in str(caught.value)
        assert path.read_bytes() == before
        assert read_trajectories(path).column("theorem_name").to_pylist() == ["t0"] * len(read_trajectories(path))
        assert not list(disk.glob("*.tmp")), "the partial temp file must not hold the space"


@pytest.fixture
def all_queues_to_ourselves(celery_worker_process):
    """The shared worker stops consuming, so a worker with its own settings (a full disk) runs the whole job."""
    from burnqed_web.celery import QUEUES, app

    app.control.purge()
    shared = [celery_worker_process.hostname]
    for queue in QUEUES:
        app.control.cancel_consumer(queue, destination=shared, reply=True)
    workers = []
    yield workers
    for worker in workers:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    app.control.purge()
    for queue in QUEUES:
        app.control.add_consumer(queue, destination=shared, reply=True)


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_trajectory_disk_is_full_fails_saying_so_and_keeps_the_earlier_files(
        researcher, all_queues_to_ourselves, tmp_path, settings):
    import_dataset(name="easy", text=EASY, format="lean-workbook")
    policy, url = start_policy("intros", "linarith")
    try:
        with small_disk(tmp_path / "trajectories", 512) as disk:
            settings.BURNQED_TRAJECTORY_DIR = disk  # where this process looks for what the worker wrote
            all_queues_to_ourselves.append(
                start_worker("full-disk", tmp_path / "worker.log", BURNQED_TRAJECTORY_DIR=str(disk)))
            first = wait_finished(launch_run(user=researcher, config=config(url), name="fits"), timeout_s=150)
            assert first.status == "succeeded", first.error
            earlier = run_trajectory_path(first).read_bytes()
            fill(disk)
            second = wait_finished(launch_run(user=researcher, config=config(url), name="full"), timeout_s=150)
            assert second.status == "failed", second.status
            assert "No space left on device" in second.error, second.error
            assert str(disk) in second.error  # which file could not be written
            assert run_trajectory_path(first).read_bytes() == earlier
            assert pq.read_table(run_trajectory_path(first)).num_rows > 0
            assert not list(disk.rglob("*.tmp")), "partial temp files must not hold the space"
            # Searched results are kept, with the reason they could not be saved for training.
            assert TheoremResult.objects.filter(run=second).count() == 3
            assert not TheoremResult.objects.filter(run=second, status__in=["pending", "running"]).exists()
    finally:
        policy.kill()
        policy.wait()
    assert Run.objects.count() == 2
