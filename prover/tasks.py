"""Celery tasks of the prover app. Every task names itself and its queue explicitly (see burnqed_web.celery)."""

from burnqed_web.celery import burnqed_task


@burnqed_task(name="burnqed.run_chunk", queue="gpu")
def run_chunk(run_id: int, run_key: str, chunk: int, theorem_ids: list[int]) -> dict:
    """Search a few theorems of a run on this worker's GPU, policy server and Lean pool."""
    from .execution.chunk import run_chunk as search

    return search(run_id, run_key, chunk, theorem_ids)


@burnqed_task(name="burnqed.finish_run", queue="default")
def finish_run(run_id: int, run_key: str) -> str:
    """After every chunk of a run: close it and merge its trajectories."""
    from .models import Run
    from .services import finish_run as finish

    if not Run.objects.filter(pk=run_id, key=run_key).exists():
        return "unknown run"  # a message older than this database: the run it meant is gone
    return finish(run_id=run_id).status


@burnqed_task(name="burnqed.import_file", queue="cpu")
def import_file(job_id: int, job_key: str) -> str:
    """Import a large uploaded data file as a dataset, all or nothing (prover.services.import_jobs)."""
    from .services.import_jobs import execute_import

    return execute_import(job_id=job_id, key=job_key)
