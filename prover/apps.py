from django.apps import AppConfig


class ProverConfig(AppConfig):
    name = "prover"
    verbose_name = "Prover"

    def ready(self) -> None:
        from jobs import registry

        from .models import ImportJob, Run
        from .services.finish import close_reaped_run
        from .services.import_jobs import close_reaped_import

        registry.register(Run, on_reaped=close_reaped_run)
        registry.register(ImportJob, on_reaped=close_reaped_import)
