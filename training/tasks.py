"""Celery tasks of the training app (declared with burnqed_task: explicit name and queue)."""

from burnqed_web.celery import burnqed_task


@burnqed_task(name="burnqed.train", queue="gpu")
def train(training_id: int, key: str) -> str:
    """Run one training loop on this worker's GPU."""
    from .services import execute_training

    return execute_training(training_id=training_id, key=key)
