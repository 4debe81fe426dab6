"""`manage.py trace_proofs DATASET [--exclude-dataset HELD_OUT]`: a dataset's released proofs as SFT seed data
(each traced through the verifier), registered as an sft_data artifact; prints what did not replay and why."""

from django.core.management.base import BaseCommand, CommandError

from prover.models import Dataset, Theorem
from prover.services import ServiceError
from prover.services.seed_data import trace_dataset_proofs


class Command(BaseCommand):
    help = "Trace a dataset's known proofs into (state, tactic) SFT data through the verifier."

    def add_arguments(self, parser):
        parser.add_argument("dataset")
        parser.add_argument("--exclude-dataset", action="append", default=[],
                            help="leave out theorems whose name is in this dataset (held-out theorems)")
        parser.add_argument("--lean", choices=("minilean", "pantograph"), default="minilean")
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, dataset: str, exclude_dataset: list[str], lean: str, workers: int, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(f"no dataset {dataset!r}")
        excluded = set(Theorem.objects.filter(dataset__name__in=exclude_dataset).values_list("name", flat=True))
        try:
            artifact, report = trace_dataset_proofs(dataset=found, exclude_names=excluded, lean=lean, workers=workers)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        meta = artifact.meta
        self.stdout.write(f"{meta['replayed']}/{meta['proofs']} proofs replayed ({lean}): {meta['steps']} steps of "
                          f"{meta['theorems']} theorems -> artifact {artifact.pk} {artifact.path}")
        for reason, count in report.failures_by_tactic().most_common(15):
            self.stdout.write(f"  {count:5d}  failed at `{reason}`")
