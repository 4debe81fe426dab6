from django.apps import AppConfig


class IterationsConfig(AppConfig):
    name = "iterations"
    verbose_name = "Expert iteration"

    def ready(self) -> None:
        from jobs import registry
        from jobs.signals import job_finished

        from .models import Iteration
        from .services import on_job_finished

        # An iteration has no worker of its own: its steps' jobs are reaped, and it reacts to their end.
        registry.register(Iteration, reaped=False)
        job_finished.connect(on_job_finished, dispatch_uid="iterations.on_job_finished")
