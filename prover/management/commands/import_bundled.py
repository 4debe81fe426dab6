from django.core.management.base import BaseCommand

from theorem_data.bundled import BUNDLED

from ...models import Dataset
from ...services import import_dataset


class Command(BaseCommand):
    help = "Import the benchmark files bundled under data/ (skips those already imported)."

    def handle(self, *args, **options):
        for bundled in BUNDLED:
            if Dataset.objects.filter(name=bundled.name).exists():
                self.stdout.write(f"{bundled.name}: already imported")
                continue
            summary = import_dataset(
                name=bundled.name, text=bundled.path.read_text(encoding="utf-8"), format=bundled.format,
                path=str(bundled.path), source=bundled.source, licence=bundled.licence, notes=bundled.notes,
            )
            self.stdout.write(self.style.SUCCESS(summary.describe()))
