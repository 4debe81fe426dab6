"""`manage.py compare_runs A B`: two runs of the service at equal compute, the figures the compare page and
`GET /api/runs/compare/` show (one rule: prover.engine.comparison)."""

import json

from django.core.management.base import BaseCommand, CommandError

from prover.engine.comparison import format_comparison
from prover.models import Run
from prover.services import compare_runs


class Command(BaseCommand):
    help = "Compare two runs at equal compute (generated tokens and nodes per theorem)."

    def add_arguments(self, parser):
        parser.add_argument("a", type=int, help="run id")
        parser.add_argument("b", type=int, help="run id")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the API's JSON, not a table")

    def handle(self, *args, a: int, b: int, as_json: bool, **options):
        runs = {run.pk: run for run in Run.objects.filter(pk__in=(a, b))}
        for pk in (a, b):
            if pk not in runs:
                raise CommandError(f"no run {pk}")
        comparison = compare_runs(runs[a], runs[b])
        if as_json:
            self.stdout.write(json.dumps({"a": a, "b": b, **comparison.to_dict()}, indent=2))
            return
        for run, label in ((runs[a], "A"), (runs[b], "B")):
            self.stdout.write(f"{label}: run {run.pk} {run.name!r}: {run.theorems_proved}/{run.theorems_total} proved, "
                              f"{run.tokens} generated tokens, {run.nodes_expanded} nodes")
        for line in format_comparison(comparison):
            self.stdout.write(line)

