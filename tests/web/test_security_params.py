"""Malformed ids in query strings and bodies answer 400 naming the parameter, never 500; import files that are
not theorem files, nested past Python's recursion limit or over the upload cap get a clear error."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobs.errors import ServiceError
from prover.models import Dataset
from prover.services import import_dataset, import_upload

EASY = '{"name": "t0", "formal_statement": "theorem t0 (x : ℝ) (h : x = 1) : x + 1 = 2 := by", "split": "test"}'
BAD_IDS = ["²", "99999999999999999999999", "abc", "-1", "1.5", "１"]


@pytest.fixture
def api(viewer):
    client = APIClient()
    client.force_authenticate(viewer)
    return client


@pytest.mark.parametrize("value", BAD_IDS)
@pytest.mark.parametrize("url,param", [("/api/results/", "run"), ("/api/results/", "theorem")])
def test_bad_ids_in_api_queries_are_a_400_naming_the_parameter(api, url, param, value):
    response = api.get(url, {param: value})
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert param in response.json()


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_the_theorem_lists_dataset_filter_never_500s(api, db, value):
    import_dataset(name="easy", text=EASY, format="minif2f-lean4")
    response = api.get("/api/theorems/", {"dataset": value})
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert "dataset" in response.json()
    else:
        assert response.json()["count"] == 0  # a name no dataset has


def test_tree_and_compare_name_their_parameters(api, db):
    response = api.get("/api/runs/compare/", {"a": "²", "b": "1"})
    assert response.status_code == 400 and "a" in response.json()


@pytest.mark.parametrize("body", [{"config": {"dataset": "²"}}, {"config": {"dataset": 99999999999999999999999}},
                                  {"config": {"dataset": "easy"}, "cloned_from": "abc"},
                                  {"config": {"dataset": "easy"}, "cloned_from": 99999999999999999999999}])
def test_bad_ids_in_a_launch_are_a_400(researcher, db, body):
    import_dataset(name="easy", text=EASY, format="minif2f-lean4")
    client = APIClient()
    client.force_authenticate(researcher)
    response = client.post("/api/runs/", body, format="json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert ("cloned_from" if "cloned_from" in body else "dataset") in response.json()


@pytest.mark.parametrize("url", ["/runs/new/?clone=abc", "/training/new/?clone=abc", "/runs/new/?clone=²",
                                 "/training/new/?clone=99999999999999999999999", "/compare/?a=x&b=1"])
def test_pages_answer_bad_ids_with_a_400_naming_the_parameter(client, researcher, url):
    client.force_login(researcher)
    response = client.get(url)
    assert response.status_code == 400, response.status_code
    assert url.split("?")[1].split("=")[0] in response.content.decode()


def test_a_posted_cloned_from_that_is_no_id_is_a_400(client, researcher, db):
    client.force_login(researcher)
    response = client.post("/runs/new/", {"cloned_from": "abc", "dataset": "easy"})
    assert response.status_code == 400


@pytest.mark.parametrize("text,message", [("42", "JSON object"), ("[" * 100_000, "nested too deeply"),
                                          ('{"theorems": ' + "[" * 100_000, "nested too deeply")])
def test_import_files_that_are_no_theorem_files_get_a_clear_error(researcher, db, text, message):
    with pytest.raises(ServiceError, match=message) as caught:
        import_upload(upload=SimpleUploadedFile("x.json", text.encode()), name="bad", user=researcher)
    assert caught.value.field == "file"
    client = APIClient()
    client.force_authenticate(researcher)
    response = client.post("/api/datasets/import/", {"file": io.BytesIO(text.encode()), "name": "bad2"},
                           format="multipart")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert not Dataset.objects.exists()


def test_an_upload_over_the_cap_is_refused_before_it_is_read(researcher, db, settings):
    settings.BURNQED_UPLOAD_MAX_BYTES = 1_000
    with pytest.raises(ServiceError, match="upload cap") as caught:
        import_upload(upload=SimpleUploadedFile("big.jsonl", (EASY + "\n").encode() * 50), name="big", user=researcher)
    assert caught.value.field == "file"
    assert not Dataset.objects.exists()
