"""Lean commands and invisible characters are refused at launch and at import, before any REPL sees them: one
table of payloads, tried as probe tactics of a run, as statements of an uploaded dataset and as tactics through
the filter the Lean client applies. Names with NUL, bidirectional overrides, zero-width characters or past the
length cap are refused too."""

import json

import pytest

from jobs.errors import ServiceError
from prover.lean.errors import UnsafeInputError
from prover.lean.safety import check_tactic
from prover.models import Dataset, Run
from prover.services import import_dataset, launch_run
from training.models import TrainingRun
from training.services import launch_training

EASY = '{"name": "t0", "formal_statement": "theorem t0 (x : ℝ) (h : x = 1) : x + 1 = 2 := by", "split": "test"}'

PAYLOADS = [
    "#eval IO.Process.run {cmd := \"id\"}",
    "run_cmd Lean.logInfo \"x\"",
    "set_option debug.skipKernelTC true in simp",
    "native_decide",
    "\uff03eval 1",  # fullwidth number sign
    "\uff52\uff55\uff4e_cmd pure ()",  # fullwidth run_cmd
    "norm\u200b_num",  # zero-width space
    "simp \u202e",  # right-to-left override
    "linarith\u2060",  # word joiner
    "omega \x00",
    "decide \x85",  # a C1 control (next line)
]


@pytest.fixture
def dataset(db):
    return import_dataset(name="easy", text=EASY, format="minif2f-lean4").dataset


@pytest.mark.parametrize("payload", PAYLOADS)
def test_probe_tactics_with_lean_commands_are_refused_at_launch(researcher, dataset, payload):
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config={"dataset": "easy", "search": {"probe_tactics": ["norm_num", payload]}})
    assert "search.probe_tactics[1]" in caught.value.errors, caught.value.errors
    assert not Run.objects.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_lean_client_filter_refuses_every_payload(payload):
    with pytest.raises(UnsafeInputError):
        check_tactic(payload)


# JSON cannot hold a raw NUL in a name here, and the importer reads U+0085 as the whitespace it is.
@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "\x00" not in p and "\x85" not in p])
def test_statements_with_lean_commands_are_refused_at_import(db, payload):
    text = json.dumps({"name": "t0", "formal_statement": f"theorem t0 (x : ℕ) : {payload} = x := by", "split": "test"})
    with pytest.raises(ServiceError):
        import_dataset(name="bad", text=text, format="minif2f-lean4")
    assert not Dataset.objects.filter(name="bad").exists()


def test_ordinary_maths_still_passes(researcher, dataset):
    launch_run(user=researcher, config={"dataset": "easy", "search": {
        "probe_tactics": ["norm_num", "nlinarith [sq_nonneg (x - 1), sq_nonneg (x + 1)]", "simp [Finset.sum_range_succ]",
                          "set_option maxHeartbeats 400000 in norm_num"]}})
    assert Run.objects.count() == 1


BAD_NAMES = ["minif2f\u200b-test\u202e", "a\x00b", "x" * 10_000, "line\nbreak", "bidi\u2066x"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_for_datasets_theorems_and_runs(researcher, dataset, tmp_path, name):
    with pytest.raises(ServiceError) as caught:
        import_dataset(name=name, text=EASY, format="minif2f-lean4")
    assert caught.value.field == "name"
    theorem = json.dumps({"name": name, "formal_statement": "theorem t (x : ℕ) : x = x := by", "split": "test"})
    with pytest.raises(ServiceError, match="name"):
        import_dataset(name="named", text=theorem, format="minif2f-lean4")
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config={"dataset": "easy"}, name=name)
    assert caught.value.field == "name"
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind="sft", name=name,
                        config={"model_path": str(tmp_path), "data_files": [str(tmp_path / "d")]})
    assert caught.value.field == "name"
    assert Dataset.objects.count() == 1 and not Run.objects.exists() and not TrainingRun.objects.exists()


def test_an_unknown_prompt_format_is_refused_at_launch(researcher, dataset):
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config={"dataset": "easy", "prompt_format": "mystery"})
    assert "prompt_format" in caught.value.errors
