"""The REST API: roles, token and session auth, CSRF, pagination, the import endpoint and the OpenAPI schema."""

import io
from pathlib import Path

import pytest
import yaml
from django.test import Client
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from prover.models import Dataset, Run, Theorem
from prover.services import import_dataset

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def dataset(db):
    return import_dataset(name="mf2f", text=(DATA / "benchmarks/minif2f_test.json").read_text(), format="benchmark-json").dataset


def upload(name="up.json", content=b'{"theorems": [{"name": "t", "statement": "(1 : \xe2\x84\x95) = 1"}]}'):
    file = io.BytesIO(content)
    file.name = name
    return file


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/datasets/", "/api/theorems/", "/api/runs/", "/api/results/"])
def test_anonymous_is_refused(url):
    assert APIClient().get(url).status_code == 401


@pytest.mark.django_db
def test_a_user_without_a_role_cannot_read(no_role_user):
    client = APIClient()
    client.force_authenticate(no_role_user)
    response = client.get("/api/datasets/")
    assert response.status_code == 403
    assert "viewer role" in response.json()["detail"]


def test_viewer_reads_with_a_token_but_cannot_import(viewer, dataset):
    token = Token.objects.create(user=viewer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    listing = client.get("/api/datasets/").json()
    assert listing["results"][0]["name"] == "mf2f" and listing["results"][0]["theorem_count"] == 244
    response = client.post("/api/datasets/import/", {"file": upload(), "name": "x"}, format="multipart")
    assert response.status_code == 403
    assert not Dataset.objects.filter(name="x").exists()


def test_lists_paginate_and_theorems_filter(viewer, dataset):
    client = APIClient()
    client.force_authenticate(viewer)
    page1 = client.get("/api/theorems/", {"dataset": "mf2f"}).json()
    assert page1["count"] == 244 and len(page1["results"]) == 50 and page1["next"]
    page2 = client.get(page1["next"]).json()
    assert {t["name"] for t in page1["results"]}.isdisjoint(t["name"] for t in page2["results"])
    named = client.get("/api/theorems/", {"dataset": dataset.pk, "name": "imo_19"}).json()
    assert named["count"] > 0 and all("imo_19" in t["name"] for t in named["results"])
    flagged = client.get("/api/theorems/", {"dataset": "mf2f", "flagged": "true"}).json()
    assert flagged["count"] == 7
    assert client.get("/api/theorems/", {"split": "nope"}).json()["count"] == 0
    assert client.get("/api/results/", {"run": "abc"}).status_code == 400


def test_runs_and_results_read(viewer, dataset):
    run = Run.objects.create(name="r1", dataset=dataset, config={"strategy": "best_first"}, theorems_total=3)
    client = APIClient()
    client.force_authenticate(viewer)
    body = client.get("/api/runs/").json()
    assert body["count"] == 1 and body["results"][0]["config"] == {"strategy": "best_first"}
    assert client.get(f"/api/runs/{run.pk}/").json()["status"] == "queued"
    assert client.get("/api/results/", {"run": run.pk}).json()["count"] == 0


def test_researcher_imports_through_the_api_and_errors_name_the_line(researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    created = client.post("/api/datasets/import/", {"file": upload(), "name": "api-ds"}, format="multipart")
    assert created.status_code == 201, created.content
    assert created.json()["theorems"] == 1 and Theorem.objects.filter(dataset__name="api-ds").count() == 1
    bad = upload("bad.jsonl", b'{"name": "a", "formal_statement": "theorem a : 1 = 1 := by"}\n{"name": ')
    refused = client.post("/api/datasets/import/", {"file": bad, "name": "bad", "format": "lean-workbook"}, format="multipart")
    assert refused.status_code == 400
    assert "bad.jsonl, line 2: malformed JSON" in refused.json()["file"][0]
    assert not Dataset.objects.filter(name="bad").exists()
    binary = upload("b.json", b"\xff\xfe\x00")
    assert "not UTF-8" in client.post("/api/datasets/import/", {"file": binary, "name": "b"}, format="multipart").json()["file"][0]
    duplicate = client.post("/api/datasets/import/", {"file": upload(), "name": "api-ds"}, format="multipart")
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["name"][0]


def test_browser_session_needs_csrf_for_writes(researcher):
    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)
    assert client.get("/api/datasets/").status_code == 200
    response = client.post("/api/datasets/import/", {"file": upload(), "name": "csrf"})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Dataset.objects.filter(name="csrf").exists()


def test_openapi_schema_validates_and_documents_every_endpoint(viewer):
    client = APIClient()
    client.force_authenticate(viewer)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    for path in ("/api/datasets/", "/api/datasets/import/", "/api/theorems/", "/api/runs/", "/api/results/"):
        assert path in schema["paths"], path
    security = {name for entry in schema["paths"]["/api/runs/"]["get"]["security"] for name in entry}
    assert {"tokenAuth", "cookieAuth"} <= security
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()
