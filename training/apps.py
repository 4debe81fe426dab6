from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from jobs import registry

        from .models import TrainingRun

        registry.register(TrainingRun)
