"""Celery tasks of expert iteration (declared with burnqed_task: explicit name and queue). Advancing only
launches other jobs, so it runs on `default`, never holding a GPU worker."""

from burnqed_web.celery import burnqed_task


@burnqed_task(name="burnqed.advance_iteration", queue="default")
def advance_iteration(iteration_id: int) -> str:
    """Move one iteration on: collect a finished step, launch the next."""
    from .services import advance_iteration as advance

    return advance(iteration_id=iteration_id)


@burnqed_task(name="burnqed.advance_iterations", queue="default")
def advance_iterations() -> list[int]:
    """Periodic (celery beat): advance every unfinished iteration, in case a step's end went unheard."""
    from jobs.models import FINISHED

    from .models import Iteration
    from .services import advance_iteration as advance

    ids = list(Iteration.objects.exclude(status__in=FINISHED).values_list("pk", flat=True))
    for pk in ids:
        advance(iteration_id=pk)
    return ids
