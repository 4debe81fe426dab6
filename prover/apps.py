from django.apps import AppConfig


class ProverConfig(AppConfig):
    name = "prover"
    verbose_name = "Prover"

    def ready(self) -> None:
        from jobs import registry

        from .models import Run
        from .services.finish import close_reaped_run

        registry.register(Run, on_reaped=close_reaped_run)
