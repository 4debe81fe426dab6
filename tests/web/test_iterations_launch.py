"""Launching an iteration: the API in the OpenAPI schema, the same field errors from the form and the API for
every bad input (nothing stored), and the collapse flag that keeps a collapsed checkpoint from being the default
policy."""

import html
import json
import re

import pytest
import yaml
from rest_framework.test import APIClient

from iterations.collapse import is_collapsed
from iterations.forms import IterationLaunchForm
from iterations.models import Iteration
from jobs.models import Artifact
from tests.web.iteration_parts import import_datasets
from training.models import MetricPoint, TrainingRun

pytestmark = pytest.mark.django_db

GOOD = {"train_dataset": "train", "eval_dataset": "heldout", "configs": ["A", "B"],
        "run": {"policy_url": "http://127.0.0.1:9/", "encoder_url": "http://127.0.0.1:9/"},
        "search": {"strategy": "best_first", "max_nodes": 4}}


def form_data(config: dict, name: str = "bad") -> dict:
    """What a browser posts for `config`: nested settings typed as JSON, lists as repeated values."""
    data = {"name": name}
    for key, value in config.items():
        data[key] = json.dumps(value) if isinstance(value, dict) else value
    return data


def page_errors(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, message in re.findall(r'data-field="([^"]+)">(.*?)</div>', page, flags=re.S):
        found.setdefault(field, []).append(html.unescape(message.strip()))
    return found


BAD = {
    "eval names overlap train names": ({"eval_dataset": "train"}, "eval_dataset", "shares 3 theorem name(s)"),
    "no such dataset": ({"train_dataset": "nope"}, "train_dataset", None),
    "node budget below 1": ({"search": {"strategy": "best_first", "max_nodes": 0}}, "search.max_nodes", ">= 1"),
    "chain of zero": ({"chain_length": 0}, "chain_length", "from 1 to 20"),
    "limit of zero": ({"train_limit": 0}, "train_limit", "from 1 to"),
    "a run setting the iteration chooses": (
        {"run": {**GOOD["run"], "dataset": "train"}}, "run.dataset", "chosen by the iteration"),
    "a bad run setting": ({"run": {**GOOD["run"], "chunk_size": 0}}, "run.chunk_size", "from 1 to"),
    "an unknown run setting": ({"run": {**GOOD["run"], "colour": "red"}}, "run.colour", "unknown field"),
}


@pytest.mark.parametrize("change,key,words", BAD.values(), ids=BAD.keys())
def test_the_form_and_the_api_refuse_a_bad_iteration_with_the_same_field_error(client, researcher, change, key,
                                                                                words):
    import_datasets()
    config = {**GOOD, **change}
    api = APIClient()
    api.force_authenticate(researcher)
    response = api.post("/api/iterations/", {"name": "bad", "config": config}, format="json")
    assert response.status_code == 400, response.content
    api_errors = response.json()
    assert key in api_errors, api_errors
    if words:
        assert any(words in message for message in api_errors[key]), api_errors[key]

    client.force_login(researcher)
    page = client.post("/iterations/new/", form_data(config))
    assert page.status_code == 200
    shown = page_errors(page.content.decode())
    field = key.split(".")[0]
    if field in ("train_dataset", "eval_dataset") and change.get(field) == "nope":
        assert shown[field]  # the form's picker refuses a dataset that is not there before the service sees it
    else:
        prefix = "" if field == key else f"{key}: "
        assert [prefix + m for m in api_errors[key]] == [m for m in shown[field] if m.startswith(prefix)], shown
    assert not Iteration.objects.exists()


def test_a_good_iteration_launches_from_the_form_and_the_api_alike(client, researcher, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    import_datasets()
    api = APIClient()
    api.force_authenticate(researcher)
    created = api.post("/api/iterations/", {"name": "by api", "config": GOOD}, format="json")
    assert created.status_code == 201, created.content
    client.force_login(researcher)
    page = client.post("/iterations/new/", form_data(GOOD, name="by form"))
    assert page.status_code == 302, page_errors(page.content.decode())
    by_api, by_form = Iteration.objects.get(name="by api"), Iteration.objects.get(name="by form")
    assert by_api.config == by_form.config and by_api.status == "queued"


def test_the_iteration_api_is_in_the_openapi_schema(viewer):
    from openapi_spec_validator import validate

    api = APIClient()
    api.force_authenticate(viewer)
    schema = yaml.safe_load(api.get("/api/schema/").content)
    validate(schema)
    assert "post" in schema["paths"]["/api/iterations/"]
    for path in ("/api/iterations/{id}/", "/api/iterations/{id}/table/", "/api/iterations/{id}/cancel/",
                 "/api/iterations/{id}/resume/"):
        assert path in schema["paths"], path
    body = schema["paths"]["/api/iterations/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    launch = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"]
    spec_ref = re.search(r"#/components/schemas/(\w+)", json.dumps(launch["config"])).group(1)
    spec = schema["components"]["schemas"][spec_ref]["properties"]
    assert {"train_dataset", "eval_dataset", "configs", "search", "chain_length"} <= set(spec)


def probed(checkpoint: Artifact, centroid_l2: float, owner) -> None:
    """A finished probes run of `checkpoint` with its centroid_l2, as the probes loop stores it."""
    run = TrainingRun.objects.create(kind="probes", owner=owner, base_checkpoint=checkpoint, status="succeeded")
    MetricPoint.objects.create(training_run=run, name="probe/centroid_l2", step=0, value=centroid_l2)


def test_a_checkpoint_whose_centroid_fell_by_more_than_half_is_flagged_and_not_the_default(client, researcher):
    parent = Artifact.objects.create(kind="lora", name="iter0", path="/ckpt/iter0")
    never_probed = Artifact.objects.create(kind="lora", name="iter1-new", path="/ckpt/iter1-new", parent=parent)
    healthy = Artifact.objects.create(kind="lora", name="iter1-joint", path="/ckpt/iter1-joint", parent=parent)
    collapsed = Artifact.objects.create(kind="lora", name="iter1-sft", path="/ckpt/iter1-sft", parent=parent)
    probed(parent, 6.40, researcher)
    probed(collapsed, 1.33, researcher)  # the v1 collapse: 6.40 -> 1.33
    probed(healthy, 3.30, researcher)  # fell, but by less than half
    assert is_collapsed(collapsed) and not is_collapsed(healthy) and not is_collapsed(never_probed)
    assert not is_collapsed(parent)

    form = IterationLaunchForm()
    labels = {a.pk: form.fields["base_adapter"].label_from_instance(a) for a in form.fields["base_adapter"].queryset}
    assert "collapsed" in labels[collapsed.pk] and "collapsed" not in labels[healthy.pk]
    assert form.initial["base_adapter"] == healthy.pk  # the newest checkpoint is collapsed: the one before it
    assert f'<option value="{healthy.pk}" selected>' in str(form["base_adapter"])

    client.force_login(researcher)
    page = client.get(f"/artifacts/{collapsed.pk}/").content.decode()
    assert "collapsed" in page.lower() and "iter0" in page
    assert "collapsed" not in client.get(f"/artifacts/{healthy.pk}/").content.decode().lower()


def test_a_succeeded_iteration_takes_its_failed_probes_again_without_a_second_child(researcher, settings):
    # the first search of a chain may be too shallow for a probe set: the probes fail, the chain goes on; later,
    # resuming that iteration takes the probes again (and only them), and does not launch another next iteration
    from django.utils import timezone

    from iterations.models import IterationStep
    from iterations.services import _continue_chain, launch_iteration, resume_iteration
    from jobs.errors import ServiceError

    settings.CELERY_TASK_ALWAYS_EAGER = False
    import_datasets()
    first = launch_iteration(user=researcher, config={**GOOD, "chain_length": 2})
    child = launch_iteration(user=researcher, config={**GOOD, "chain_length": 2}, parent=first)
    done = {"status": "done", "attempts": 1}
    for position, name in enumerate(["eval_llm", "search"]):
        IterationStep.objects.create(iteration=first, position=position, name=name, **done)
    probes = IterationStep.objects.create(iteration=first, position=2, name="probes", status="failed", attempts=2,
                                          error="ProbeSetError: the probe set needs states of both labels",
                                          started_at=timezone.now())
    Iteration.objects.filter(pk=first.pk).update(status="succeeded")
    first.refresh_from_db()

    resumed = resume_iteration(user=researcher, iteration=first)
    probes.refresh_from_db()
    assert resumed.status == "running" and (probes.status, probes.attempts, probes.started_at) == ("pending", 0, None)
    assert set(first.steps.exclude(name="probes").values_list("status", flat=True)) == {"done"}
    _continue_chain(first)  # what finishing it again does: the next iteration exists already
    assert list(first.children.all()) == [child]

    Iteration.objects.filter(pk=first.pk).update(status="succeeded")
    IterationStep.objects.filter(pk=probes.pk).update(status="done")
    first.refresh_from_db()
    with pytest.raises(ServiceError, match="only a failed one resumes"):
        resume_iteration(user=researcher, iteration=first)  # nothing left to take again
