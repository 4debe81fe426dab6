"""The data-file readers on every bundled format and on broken files: errors name the line and the problem."""

import json
from pathlib import Path

import pytest

from theorem_data.errors import DataFileError
from theorem_data.formats import guess_format, parse_data_file
from theorem_data.known_issues import known_issue
from theorem_data.sorry_filter import escape_hatch
from theorem_data.statements import closed_statement

DATA = Path(__file__).resolve().parents[2] / "data"

BUNDLED = [
    ("benchmarks/minif2f_test.json", "benchmark-json", 244),
    ("benchmarks/minif2f_valid.json", "benchmark-json", 244),
    ("benchmarks/minif2f_lean4_v4.24.jsonl", "minif2f-lean4", 488),
    ("benchmarks/minif2f_deepseek_prover_v1.5.jsonl", "deepseek-prover", 488),
    ("proofs/minif2f_proofs_kimina.jsonl", "proofs", 225),
    ("proofs/minif2f_proofs_internlm2.jsonl", "proofs", 113),
    ("workbook/lean_workbook_statements_subset.jsonl", "lean-workbook", 13027),
]


@pytest.mark.parametrize(("relative", "file_format", "count"), BUNDLED)
def test_every_bundled_file_parses_and_its_format_is_recognised(relative, file_format, count):
    text = (DATA / relative).read_text(encoding="utf-8")
    parsed = parse_data_file(text, file_format, relative)
    assert len(parsed.theorems) == count
    assert guess_format(relative, text) == file_format
    for theorem in parsed.theorems:
        assert theorem.statement and "sorry" not in theorem.statement and ":= by" not in theorem.statement


def test_declarations_become_the_same_closed_statement_as_the_benchmark_file():
    benchmark = {t["name"]: t["statement"] for t in json.loads((DATA / "benchmarks/minif2f_test.json").read_text())["theorems"]}
    lean4 = parse_data_file((DATA / "benchmarks/minif2f_lean4_v4.24.jsonl").read_text(), "minif2f-lean4")
    same = [t for t in lean4.theorems if t.name in benchmark and t.statement == " ".join(benchmark[t.name].split())]
    # Every test statement but the 7 corrected upstream reads back identically.
    assert len(same) == 244 - 7


def test_closed_statement_of_a_declaration():
    formal = "theorem foo (x y : ℝ) (h₀ : x = (2 : ℝ)) {n : ℕ} :\n    x + y ≥ (fun t : ℝ => t) 0 := by sorry"
    assert closed_statement(formal) == "∀ (x y : ℝ) (h₀ : x = (2 : ℝ)) {n : ℕ}, x + y ≥ (fun t : ℝ => t) 0"
    assert closed_statement("theorem bar : (2 : ℕ) + 2 = 4 := by\n") == "(2 : ℕ) + 2 = 4"


def test_sorry_filter_matches_whole_words_outside_comments():
    assert escape_hatch("  nlinarith [sq_nonneg x]\n  sorry") == "sorry"
    assert escape_hatch("exact admit") == "admit"
    assert escape_hatch("cheat") == "cheat"
    assert escape_hatch("exact sorry_free_lemma x") is None
    assert escape_hatch("-- no sorry here\nlinarith") is None
    assert escape_hatch("/- admit -/ linarith") is None


def test_a_proof_using_sorry_rejects_that_proof_and_a_theorem_left_without_proofs():
    rows = [
        {"name": "t1", "formal_statement": "theorem t1 : 1 = 1 := by", "proof": "  sorry"},
        {"name": "t1", "formal_statement": "theorem t1 : 1 = 1 := by", "proof": "  rfl"},
        {"name": "t2", "formal_statement": "theorem t2 : 2 = 2 := by", "proof": "  have h : 1 = 1 := by admit\n  rfl"},
    ]
    parsed = parse_data_file("\n".join(json.dumps(r) for r in rows), "proofs")
    assert [t.name for t in parsed.theorems] == ["t1"]
    assert [p.proof for p in parsed.theorems[0].proofs] == ["  rfl"]
    assert [(name, line) for name, line, _ in parsed.rejected] == [("t1", 1), ("t2", 3)]


def test_known_wrong_statements_are_flagged_unless_corrected():
    v1 = {t["name"]: t["statement"] for t in json.loads((DATA / "benchmarks/minif2f_test.json").read_text())["theorems"]}
    lean4 = {t.name: t.statement for t in parse_data_file((DATA / "benchmarks/minif2f_lean4_v4.24.jsonl").read_text(), "minif2f-lean4").theorems}
    assert "free" in known_issue("aime_1994_p3", v1["aime_1994_p3"])
    assert known_issue("aime_1994_p3", lean4["aime_1994_p3"]) == ""
    assert known_issue("mathd_algebra_478", v1["mathd_algebra_478"]) == ""
    assert sum(bool(known_issue(n, s)) for n, s in v1.items()) == 7


JSONL_OK = '{"name": "a", "formal_statement": "theorem a : (1 : ℕ) = 1 := by"}'

BAD_FILES = [
    # (format, text, words the error must contain)
    ("lean-workbook", JSONL_OK + "\n{not json", ["line 2", "malformed JSON"]),
    ("lean-workbook", JSONL_OK + '\n{"name": "b"}', ["line 2", 'missing field "formal_statement"']),
    ("benchmark-json", '{"theorems": [\n {"name": "a", "statement": "1 = 1"},\n {"statement": "2 = 2"}\n]}', ["line 3", 'missing field "name"']),
    ("lean-workbook", JSONL_OK + "\n" + JSONL_OK, ["line 2", 'duplicate theorem name "a"', "first seen on line 1"]),
    ("benchmark-json", '{"theorems": [{"name": "a", "statement": "   "}]}', ["line 1", "empty statement"]),
    ("benchmark-json", '{"theorems": [\n{"name": "a", "statement": "#eval IO.println 1"}]}', ["line 2", "`#eval`"]),
    ("benchmark-json", '{"theorems": [{"name": "a", "statement": "run_cmd do pure ()"}]}', ["`run_cmd`", "never commands"]),
    ("minif2f-lean4", '{"name": "a", "formal_statement": "import Mathlib\\ntheorem a : True := by"}', ["line 1", "theorem"]),
    ("lean-workbook", '{"name": "a", "formal_statement": "theorem a (x : ℕ) x = 1 := by"}', ["line 1", "no `:`"]),
    ("benchmark-json", '{"theorems": [{"name": "a", "statement": 3}]}', ['field "statement" must be a string']),
    ("benchmark-json", '["a", "b"]', ['"theorems" array']),
    ("proofs", '{"name": "a", "formal_statement": "theorem a : 1 = 1 := by", "proof": "rfl"}\n'
               '{"name": "a", "formal_statement": "theorem a : 2 = 2 := by", "proof": "rfl"}', ["line 2", "different statement"]),
    ("lean-workbook", "", ["empty"]),
    ("no-such-format", JSONL_OK, ['unknown format "no-such-format"']),
]


@pytest.mark.parametrize(("file_format", "text", "expected"), BAD_FILES)
def test_bad_files_are_refused_with_the_line_and_the_reason(file_format, text, expected):
    with pytest.raises(DataFileError) as caught:
        parse_data_file(text, file_format, "upload.jsonl")
    message = str(caught.value)
    assert message.startswith("upload.jsonl")
    for words in expected:
        assert words in message, message
