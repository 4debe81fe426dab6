"""Settings past what a machine can honour are refused at launch with the field named, and the API schema states
the bounds."""

import pytest
from rest_framework.test import APIClient

from jobs.errors import ServiceError
from prover.models import Run
from prover.services import import_dataset, launch_run
from training.models import TrainingRun
from training.services import launch_training

EASY = '{"name": "t0", "formal_statement": "theorem t0 (x : ℝ) (h : x = 1) : x + 1 = 2 := by", "split": "test"}'


@pytest.fixture
def dataset(db):
    return import_dataset(name="easy", text=EASY, format="minif2f-lean4").dataset


@pytest.mark.parametrize("config,field", [
    ({"search": {"max_nodes": 10**30}}, "search.max_nodes"),
    ({"search": {"num_candidates": 10**9}}, "search.num_candidates"),
    ({"search": {"timeout_s": 1e308}}, "search.timeout_s"),
    ({"search": {"strategy": "hybrid", "max_completions": 10**12}}, "search.max_completions"),
    ({"search": {"probe_tactics": ["simp"] * 1000}}, "search.probe_tactics"),
    ({"lean_workers": 64, "concurrency": 64}, "lean_workers"),
    ({"chunk_size": 10**6}, "chunk_size"),
])
def test_run_settings_past_their_bound_are_refused(researcher, dataset, config, field):
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config={"dataset": "easy", **config})
    assert field in caught.value.errors, caught.value.errors
    assert "at most" in str(caught.value) or "from 1 to" in str(caught.value)
    assert not Run.objects.exists()


@pytest.mark.parametrize("kind,setting,value", [("sft", "max_steps", 10**12), ("sft", "batch_size", 10**7),
                                               ("ebm", "steps", 10**12), ("ebm", "batch_size", 10**7)])
def test_training_settings_past_their_bound_are_refused(researcher, tmp_path, kind, setting, value):
    files = {"sft": {"model_path": str(tmp_path), "data_files": [str(tmp_path / "d.jsonl")]},
             "ebm": {"model_path": str(tmp_path), "trajectory_files": [str(tmp_path / "t.parquet")]}}[kind]
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind=kind, config={**files, setting: value})
    assert f"config.{setting}" in caught.value.errors
    assert not TrainingRun.objects.exists()


def test_the_schema_states_the_bounds_and_the_training_kinds(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert components["SearchSettingsRequest"]["properties"]["max_nodes"]["maximum"] == 1_000_000
    run_spec = next(v for k, v in components.items() if "lean_workers" in v.get("properties", {}))
    assert run_spec["properties"]["lean_workers"]["maximum"] == 16
    launch = components["TrainingLaunchRequest"]
    assert "kind" in launch.get("required", [])
    kind = launch["properties"]["kind"]
    refs = [kind, *kind.get("allOf", [])]
    enum = next(components[r["$ref"].rsplit("/", 1)[1]]["enum"] if "$ref" in r else r["enum"] for r in refs
                if "$ref" in r or "enum" in r)
    assert set(enum) >= {"sft", "ebm"}
