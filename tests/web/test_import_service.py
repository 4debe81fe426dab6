"""Importing datasets through the service and its three doors (command, admin, API): all or nothing."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from prover.models import Dataset, KnownProof, Theorem
from prover.services import ServiceError, import_dataset
from tests.theorem_data.test_formats import BAD_FILES

DATA = Path(__file__).resolve().parents[2] / "data"
GOOD = '{"name": "a", "formal_statement": "theorem a (x : ℕ) (h : x = 1) : x + 1 = 2 := by"}'


def nothing_saved() -> bool:
    return not Dataset.objects.exists() and not Theorem.objects.exists() and not KnownProof.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("relative", "file_format", "theorems", "proofs", "flagged"),
    [
        ("benchmarks/minif2f_test.json", "benchmark-json", 244, 0, 7),
        ("benchmarks/minif2f_lean4_v4.24.jsonl", "minif2f-lean4", 488, 0, 0),
        ("benchmarks/minif2f_deepseek_prover_v1.5.jsonl", "deepseek-prover", 488, 0, 7),
        ("proofs/minif2f_proofs_rl_lean.jsonl", "proofs", 122, 746, 0),
        ("workbook/lean_workbook_statements_subset.jsonl", "lean-workbook", 13027, 0, 0),
    ],
)
def test_each_bundled_format_imports_with_its_counts(relative, file_format, theorems, proofs, flagged):
    summary = import_dataset(name="ds", text=(DATA / relative).read_text(), format=file_format, path=relative)
    dataset = Dataset.objects.get(name="ds")
    assert dataset.theorems.count() == theorems == summary.theorems
    assert KnownProof.objects.filter(theorem__dataset=dataset).count() == proofs
    assert dataset.theorems.filter(flagged=True).count() == flagged == len(summary.flagged)
    assert dataset.format == file_format


@pytest.mark.django_db
def test_imported_theorem_keeps_header_split_informal_text_and_versions():
    import_dataset(name="lean4", text=(DATA / "benchmarks/minif2f_lean4_v4.24.jsonl").read_text(), format="minif2f-lean4")
    theorem = Theorem.objects.get(dataset__name="lean4", name="mathd_algebra_478")
    assert theorem.split == "test"
    assert theorem.statement.startswith("∀ (b h v : ℝ)")
    assert "import Mathlib" in theorem.header
    assert theorem.informal_statement
    assert len(theorem.content_hash) == 64
    assert Dataset.objects.get(name="lean4").lean_version == "v4.24.0"


@pytest.mark.django_db
def test_a_bad_line_deep_in_a_big_file_saves_nothing():
    lines = (DATA / "workbook/lean_workbook_statements_subset.jsonl").read_text().splitlines()
    lines[9000] = lines[9000][:-5]  # truncate the JSON on line 9001
    with pytest.raises(ServiceError, match="line 9001.*malformed JSON"):
        import_dataset(name="wb", text="\n".join(lines), format="lean-workbook")
    assert nothing_saved()


@pytest.mark.django_db
def test_a_database_failure_midway_rolls_back_the_whole_import(monkeypatch):
    from prover.services import datasets

    real_insert = datasets.insert_rows

    def fail_on_proofs(table, columns, rows):
        if table == "prover_knownproof":  # the theorems are in by now: they must vanish with the proofs
            raise RuntimeError("disk full")
        real_insert(table, columns, rows)

    monkeypatch.setattr(datasets, "insert_rows", fail_on_proofs)
    with pytest.raises(RuntimeError):
        import_dataset(name="p", text=(DATA / "proofs/minif2f_proofs_kimina.jsonl").read_text(), format="proofs")
    assert nothing_saved()


@pytest.mark.django_db
def test_a_second_dataset_with_the_same_name_is_refused_and_the_first_kept():
    import_dataset(name="same", text=GOOD, format="lean-workbook")
    with pytest.raises(ServiceError, match='"same" already exists'):
        import_dataset(name="same", text=GOOD.replace('"a"', '"b"'), format="lean-workbook")
    assert list(Theorem.objects.values_list("name", flat=True)) == ["a"]


@pytest.mark.django_db
def test_management_command_imports_with_progress_and_reports_errors(tmp_path):
    out = io.StringIO()
    call_command("import_dataset", str(DATA / "benchmarks/minif2f_valid.json"), "--name", "valid", stdout=out)
    assert "imported 244 theorems" in out.getvalue()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(GOOD + "\n" + GOOD)
    with pytest.raises(CommandError, match=r"bad.jsonl, line 2: duplicate theorem name \"a\""):
        call_command("import_dataset", str(bad), "--format", "lean-workbook", stdout=io.StringIO())
    assert not Dataset.objects.filter(name="bad").exists()


@pytest.mark.django_db
def test_admin_upload_imports_and_shows_the_error_line_for_a_bad_file(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/prover/dataset/")
    assert b"Import a data file" in page.content
    bad = io.BytesIO(b'{"theorems": [\n{"name": "x", "statement": "import Foo"}]}')
    bad.name = "bad.json"
    response = client.post("/admin/prover/dataset/import/", {"file": bad, "format": "auto", "name": "bad"})
    assert response.status_code == 200
    assert "bad.json, line 2" in response.content.decode() and "`import`" in response.content.decode()
    assert nothing_saved()
    good = io.BytesIO((DATA / "benchmarks/minif2f_test.json").read_bytes())
    good.name = "minif2f_test.json"
    response = client.post("/admin/prover/dataset/import/", {"file": good, "format": "auto", "name": "mf2f"}, follow=True)
    assert Dataset.objects.get(name="mf2f").theorems.count() == 244
    assert "7 flagged as known-wrong" in response.content.decode()


@pytest.mark.django_db
def test_bundled_import_is_idempotent():
    call_command("import_bundled", stdout=io.StringIO())
    call_command("import_bundled", stdout=io.StringIO())
    counts = {d.name: d.theorems.count() for d in Dataset.objects.all()}
    assert counts == {"minif2f-test": 244, "minif2f-valid": 244, "minif2f-lean4-v4.24": 488}
    assert json.loads(json.dumps(counts))  # plain data, as the API will serve it


@pytest.mark.django_db
@pytest.mark.parametrize(("file_format", "text", "expected"), BAD_FILES)
def test_every_kind_of_bad_file_is_refused_by_the_service_and_saves_nothing(file_format, text, expected):
    with pytest.raises(ServiceError) as caught:
        import_dataset(name="bad", text=text, format=file_format, path="upload.jsonl")
    for words in expected:
        assert words in caught.value.message
    assert caught.value.field == "file"
    assert nothing_saved()
