from django.apps import AppConfig


class ProverConfig(AppConfig):
    name = "prover"
    verbose_name = "Prover"
