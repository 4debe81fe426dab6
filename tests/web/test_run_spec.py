"""The run spec is the one definition of a run: clone-and-edit through the form and through the API keeps every
setting, the OpenAPI schema lists every field with its type and default, and the command line and the API
compare two runs with the same numbers."""

import dataclasses
import json
import subprocess
import sys
import typing
from html.parser import HTMLParser

import pytest
from rest_framework.test import APIClient

from prover.engine.config import SETTING_HELP, SearchConfig
from prover.engine.spec import RunSpec, spec_fields
from prover.models import Run, Theorem, TheoremResult
from prover.services import import_dataset, launch_run
from tests.conftest import ROOT, child_env

EASY = "\n".join(
    f'{{"name": "t{i}", "formal_statement": "theorem t{i} (x : ℝ) (h : x = {i}) : x + 1 = {i + 1} := by", '
    f'"split": "test"}}' for i in range(4))


@pytest.fixture
def dataset(db):
    return import_dataset(name="easy", text=EASY, format="minif2f-lean4").dataset


def unlike(value):
    """A valid value different from `value`, for any search or run setting type."""
    if isinstance(value, bool):
        return not value
    if value is None:
        return 7
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.9 if value else 0.5
    if isinstance(value, tuple | list):
        return ["norm_num", "linarith"]
    raise TypeError(value)


def everything_set() -> dict:
    """A run config in which every setting of the spec, and every search setting, differs from its default."""
    defaults = SearchConfig.for_strategy("hybrid").to_dict()
    search = {"strategy": "hybrid", **{k: unlike(v) for k, v in defaults.items() if k != "strategy"}}
    config = {
        "dataset": "easy", "split": "test", "theorems": ["t1", "t2"], "limit": 2, "search": search,
        "policy_url": "http://127.0.0.1:9/", "encoder_url": "http://127.0.0.1:8/", "ebm_path": str(ROOT / "data" / "no-ebm"), "adapter": str(ROOT / "data" / "no-adapter"),
        "prompt_format": "goal-proofstep", "lean": "pantograph", "lean_workers": 3, "concurrency": 2, "chunk_size": 5,
        "allow_lean_version_mismatch": True,
    }
    assert set(config) == {f.name for f in spec_fields()}, "a new run setting needs a non-default value here"
    for f in spec_fields():
        default = f.default if f.default is not dataclasses.MISSING else None
        assert config[f.name] != default or f.name == "search", f.name
    return config


class FormValues(HTMLParser):
    """What a browser would submit for the form on a page, left unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") != "checkbox" or "checked" in a:
                self.values[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a["value"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n") if not self.values[self._textarea] else data


def test_cloning_through_the_form_keeps_every_setting(client, researcher, dataset):
    original = launch_run(user=researcher, config=everything_set(), name="everything")
    client.force_login(researcher)
    page = client.get(f"/runs/new/?clone={original.pk}").content.decode()
    form = FormValues()
    form.feed(page)
    assert form.values["cloned_from"] == str(original.pk)
    response = client.post("/runs/new/", form.values)
    assert response.status_code == 302, response.content.decode()[-3000:]
    clone = Run.objects.exclude(pk=original.pk).get()
    assert clone.config == original.config and clone.cloned_from == original
    assert clone.name == "everything (copy)"


def test_cloning_through_the_api_keeps_every_setting(researcher, dataset):
    api = APIClient()
    api.force_authenticate(researcher)
    created = api.post("/api/runs/", {"name": "everything", "config": everything_set()}, format="json")
    assert created.status_code == 201, created.content
    original = api.get(f"/api/runs/{created.json()['id']}/").json()
    cloned = api.post("/api/runs/", {"name": "again", "config": original["config"], "cloned_from": original["id"]},
                      format="json")
    assert cloned.status_code == 201, cloned.content
    assert cloned.json()["config"] == original["config"] and cloned.json()["cloned_from"] == original["id"]
    # Every setting given was kept, not replaced by a default.
    stored = original["config"]
    for key, value in everything_set().items():
        expected = value if key != "search" else {**SearchConfig.for_strategy("hybrid").to_dict(), **value}
        assert stored[key] == expected, key


def test_a_new_run_form_leaves_search_budgets_to_the_strategy(client, researcher, dataset):
    client.force_login(researcher)
    form = FormValues()
    form.feed(client.get("/runs/new/").content.decode())
    assert form.values["max_nodes"] == "" and form.values["num_candidates"] == ""
    form.values.update(dataset="easy", strategy="hybrid", policy_url="http://127.0.0.1:9/")
    assert client.post("/runs/new/", form.values).status_code == 302
    search = Run.objects.get().config["search"]
    assert search == SearchConfig.for_strategy("hybrid").to_dict()  # no 600-node cap the engine would not give


def test_the_openapi_schema_lists_the_run_spec_with_types_and_defaults(viewer):
    api = APIClient()
    api.force_authenticate(viewer)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    spec = components["RunSpecRequest"]["properties"]
    assert set(spec) == {f.name for f in spec_fields()}
    assert spec["lean_workers"]["type"] == "integer" and spec["lean_workers"]["default"] == 1
    assert spec["lean"]["allOf"][0]["$ref"].endswith("/LeanEnum") and "default" not in spec["lean"]  # the deployment's
    assert set(components["LeanEnum"]["enum"]) == {"minilean", "pantograph"}
    assert "required" in components["RunSpecRequest"] and components["RunSpecRequest"]["required"] == ["dataset"]
    search = components["SearchSettingsRequest"]["properties"]
    hints = typing.get_type_hints(SearchConfig)
    assert set(search) == set(hints) == set(SETTING_HELP)
    assert search["max_depth"]["type"] == "integer" and search["max_depth"]["default"] == 25
    assert search["strategy"]["default"] == "best_first" and search["max_nodes"]["default"] == 600  # a run's defaults
    assert search["temperature"]["type"] == "number" and search["recheck_proofs"]["type"] == "boolean"
    assert search["max_nodes"].get("nullable") is True
    assert all(search[name]["description"].startswith(SETTING_HELP[name]) for name in search)
    launch = components["RunLaunchRequest"]["properties"]["config"]
    assert "RunSpecRequest" in json.dumps(launch)


def make_run(dataset, name: str, proved: dict[str, tuple[int, int]], failed: dict[str, tuple[int, int]]) -> Run:
    """A finished run: proved theorem -> (tokens, nodes) spent when the proof was found, failed -> all spent."""
    run = Run.objects.create(name=name, dataset=dataset, status="succeeded", theorems_total=4,
                             theorems_proved=len(proved), config={})
    for theorem in Theorem.objects.filter(dataset=dataset):
        if theorem.name in proved:
            tokens, nodes = proved[theorem.name]
            TheoremResult.objects.create(run=run, theorem=theorem, status="proved", failure_reason="proved",
                                         tokens=tokens + 5, nodes_expanded=nodes + 1, tokens_to_proof=tokens,
                                         nodes_to_proof=nodes)
        elif theorem.name in failed:
            tokens, nodes = failed[theorem.name]
            TheoremResult.objects.create(run=run, theorem=theorem, status="failed", failure_reason="budget_exhausted",
                                         tokens=tokens, nodes_expanded=nodes)
    return run


@pytest.mark.django_db(transaction=True)
def test_the_command_line_and_the_api_compare_two_runs_with_the_same_numbers(viewer):
    dataset = import_dataset(name="easy", text=EASY, format="minif2f-lean4").dataset
    a = make_run(dataset, "a", proved={"t0": (30, 3), "t1": (200, 9)}, failed={"t2": (400, 12)})
    b = make_run(dataset, "b", proved={"t0": (50, 4), "t2": (90, 6)}, failed={"t1": (150, 8), "t3": (150, 8)})
    api = APIClient()
    api.force_authenticate(viewer)
    body = api.get("/api/runs/compare/", {"a": a.pk, "b": b.pk}).json()
    out = subprocess.run([sys.executable, "-m", "burnqed_web.cli", "compare", str(a.pk), str(b.pk), "--json"],
                         cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert cli == {k: v for k, v in body.items() if k != "curves"}
    # The rule itself: equal compute is the smaller of the two largest spends (a: 400, b: 150 tokens).
    assert body["equal_tokens"] == 150 and body["solved_at_equal_tokens"] == [1, 2]
    assert body["only_a"] == ["t1"] and body["only_b"] == ["t2"] and body["both"] == ["t0"]
    table = subprocess.run([sys.executable, "-m", "burnqed_web.cli", "compare", str(a.pk), str(b.pk)],
                           cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120)
    assert "A 1/4 (25.0%)   B 2/4 (50.0%)" in table.stdout, table.stdout + table.stderr


def test_the_burnqed_command_lists_its_commands():
    import importlib.metadata

    out = subprocess.run([sys.executable, "-m", "burnqed_web.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and all(c in out.stdout for c in ("serve", "search", "compare", "train", "import"))
    [entry] = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "burnqed"]
    assert entry.load().__module__ == "burnqed_web.cli"
    bad = subprocess.run([sys.executable, "-m", "burnqed_web.cli", "fly"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "unknown command 'fly'" in bad.stderr


def test_every_search_setting_is_explained():
    assert set(SETTING_HELP) == {f.name for f in dataclasses.fields(SearchConfig)}
    assert all(f.metadata["help"] for f in spec_fields())
    assert RunSpec.from_mapping({"dataset": "x", "policy_url": "http://h"}).search.strategy == "best_first"
