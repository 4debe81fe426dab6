"""Dataset import speed: the 13,027-statement Lean Workbook subset through the real import service, on SQLite and
on PostgreSQL, against a plain bulk insert of the same rows (COPY on PostgreSQL, one executemany on SQLite)
measured in the same run.

    python bench/import_speed.py [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--repeat 3]

Each backend runs in a child process on a fresh database (a temp SQLite file; a scratch PostgreSQL database
created and dropped here), so the two never share Django state.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKBOOK = ROOT / "data" / "workbook" / "lean_workbook_statements_subset.jsonl"
COLUMNS = ("dataset_id", "name", "split", "statement", "formal_statement", "header", "informal_statement",
           "informal_proof", "content_hash", "flagged", "flag_reason", "extra")


def child(repeat: int) -> dict:
    """Runs inside a child with DATABASE_URL set: migrate, then time the service and the baseline."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "burnqed_web.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from jobs.bulk import insert_rows
    from prover.models import Dataset, Theorem, statement_hash
    from prover.services import import_dataset
    from theorem_data.formats import parse_data_file

    call_command("migrate", verbosity=0)
    text = WORKBOOK.read_text(encoding="utf-8")
    service, baseline = [], []
    for attempt in range(repeat):
        Theorem.objects.all().delete()
        Dataset.objects.all().delete()
        started = time.perf_counter()
        summary = import_dataset(name=f"workbook-{attempt}", text=text, format="lean-workbook")
        service.append(time.perf_counter() - started)
        assert summary.theorems == 13027

        # The baseline gets its rows for free (parsed outside the clock): it only measures the insert.
        records = parse_data_file(text, "lean-workbook").theorems
        Theorem.objects.all().delete()
        dataset = Dataset.objects.create(name=f"baseline-{attempt}")
        rows = [
            (dataset.pk, r.name, r.split, r.statement, r.formal_statement, "", "", "", statement_hash(r.statement),
             False, "", json.dumps(r.extra))
            for r in records
        ]
        started = time.perf_counter()
        with transaction.atomic():
            insert_rows("prover_theorem", COLUMNS, rows)  # COPY on PostgreSQL, executemany on SQLite
        baseline.append(time.perf_counter() - started)
        assert Theorem.objects.filter(dataset=dataset).count() == 13027
    return {"vendor": connection.vendor, "service_s": min(service), "baseline_s": min(baseline), "rows": 13027}


def run_backend(database_url: str, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "DATABASE_URL": database_url, "BURNQED_VAR_DIR": var, "REDIS_URL": "redis://127.0.0.1:1/0"}
        done = subprocess.run([sys.executable, __file__, "--child", "--repeat", str(repeat)], env=env,
                              capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed for {database_url}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                        help="a server URL where a scratch database may be created ('' to skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.repeat)))
        return

    from _machine import machine_line

    print(machine_line())
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        results.append(run_backend(f"sqlite:///{scratch}/bench.sqlite3", args.repeat))
    if args.postgres:
        import psycopg

        scratch_db = f"burnqed_bench_{os.getpid()}"
        try:
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{scratch_db}"')
        except psycopg.OperationalError as exc:
            print(f"PostgreSQL skipped: {exc}".splitlines()[0])
        else:
            try:
                results.append(run_backend(args.postgres.rsplit("/", 1)[0] + "/" + scratch_db, args.repeat))
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{scratch_db}"')
    print(f"{'backend':<12}{'service stmts/s':>17}{'bulk-insert stmts/s':>21}{'ratio':>8}   (best of {args.repeat})")
    for r in results:
        service_rate, baseline_rate = r["rows"] / r["service_s"], r["rows"] / r["baseline_s"]
        print(f"{r['vendor']:<12}{service_rate:>17,.0f}{baseline_rate:>21,.0f}{service_rate / baseline_rate:>8.2f}")
    print("service = parse + validate + flag + insert of the whole file; baseline = insert of pre-built rows")


if __name__ == "__main__":
    main()
