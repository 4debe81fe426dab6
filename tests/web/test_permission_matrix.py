"""Every URL and method × anonymous / viewer / researcher / admin, generated from the OpenAPI schema (the API) and
the URL conf (the pages), so a new endpoint is in the matrix the day it is added. Only researchers and admins
launch, cancel or import; anonymous users get nothing; websockets refuse anonymous users and foreign origins."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from burnqed_web.asgi import application
from burnqed_web.routing import websocket_urlpatterns
from iterations.models import Iteration
from jobs.models import Artifact
from prover.models import ImportJob, Run, TheoremResult
from prover.services import import_dataset, launch_run
from tests.web.test_realtime import session_headers
from training.models import TrainingRun

EASY = '{"name": "t0", "formal_statement": "theorem t0 (x : ℝ) (h : x = 1) : x + 1 = 2 := by", "split": "test"}'
ROLES = ("anonymous", "viewer", "researcher", "admin")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED = {401, 403}


@pytest.fixture
def objects(researcher):
    """One object of every kind, so every `{id}` in a URL names something that exists."""
    dataset = import_dataset(name="easy", text=EASY, format="minif2f-lean4").dataset
    run = launch_run(user=researcher, config={"dataset": "easy"})
    training = TrainingRun.objects.create(kind="sft", config={}, owner=researcher)
    artifact = Artifact.objects.create(kind=Artifact.Kind.TRAJECTORIES, name="t", path="/nowhere/t.parquet")
    iteration = Iteration.objects.create(name="i", owner=researcher)
    result = TheoremResult.objects.filter(run=run).first()
    imported = ImportJob.objects.create(name="i", file_name="f.jsonl", file_format="lean-workbook", size_bytes=1)
    return {"import": imported.pk, "dataset": dataset.pk, "theorem": result.theorem_id, "run": run.pk, "result": result.pk,
            "training-run": training.pk, "training": training.pk, "artifact": artifact.pk, "iteration": iteration.pk}


def _users(viewer, researcher, admin_user):
    return {"anonymous": None, "viewer": viewer, "researcher": researcher, "admin": admin_user}


def _schema_operations(admin_user) -> list[tuple[str, str]]:
    client = APIClient()
    client.force_authenticate(admin_user)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")]


def _filled(path: str, objects: dict) -> str:
    """`/api/runs/{id}/...` with the id of a run; the collection names the kind."""
    kind = re.match(r"/api/([a-z-]+)/", path).group(1).removesuffix("s").replace("theorem-result", "result")
    kinds = {"dataset": "dataset", "theorem": "theorem", "run": "run", "result": "result", "training-run": "training-run",
             "artifact": "artifact", "iteration": "iteration", "import": "import"}
    return path.replace("{id}", str(objects[kinds[kind]]))


def test_the_api_matrix(viewer, researcher, admin_user, objects):
    operations = _schema_operations(admin_user)
    assert len(operations) >= 20, operations
    users = _users(viewer, researcher, admin_user)
    table, wrong = [], []
    for method, path in operations:
        url = _filled(path, objects)
        for role in ROLES:
            client = APIClient()
            if users[role] is not None:
                client.force_authenticate(users[role])
            status = getattr(client, method.lower())(url, {}, format="json").status_code
            table.append((method, path, role, status))
            assert status < 500, (method, url, role, status)
            may = role in ("researcher", "admin") or (role == "viewer" and method not in WRITES)
            if may == (status in REFUSED):
                wrong.append((method, path, role, status))
    assert not wrong, "\n".join(map(str, wrong))
    # the matrix covers launches, cancels and imports
    covered = {(m, p) for m, p, _, _ in table}
    for needed in [("POST", "/api/runs/"), ("POST", "/api/runs/{id}/cancel/"), ("POST", "/api/datasets/import/"),
                   ("POST", "/api/training-runs/"), ("POST", "/api/training-runs/{id}/cancel/"),
                   ("POST", "/api/iterations/")]:
        assert needed in covered, needed


def test_writes_the_schema_does_not_offer_are_refused(viewer, researcher, objects):
    for user in (viewer, researcher):
        client = APIClient()
        client.force_authenticate(user)
        for method in ("put", "patch", "delete"):
            status = getattr(client, method)(f"/api/runs/{objects['run']}/", {}, format="json").status_code
            assert status in (403, 405), (user, method, status)
    assert Run.objects.filter(pk=objects["run"]).exists()


def _page_patterns(patterns=None, prefix="") -> list[str]:
    """Every page route of the URL conf (the API and the admin have their own checks), as a route string."""
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("api/", "admin/", "accounts/")):
            continue
        if isinstance(entry, URLResolver):
            routes += _page_patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            routes.append(route)
    return routes


PAGE_IDS = {"run_id": "run", "theorem_id": "theorem", "training_id": "training", "iteration_id": "iteration",
            "artifact_id": "artifact", "position": None}
LAUNCHING = re.compile(r"(new|cancel|resume)/$")


def test_the_page_matrix(viewer, researcher, admin_user, objects):
    routes = _page_patterns()
    assert len(routes) >= 15, routes
    users = _users(viewer, researcher, admin_user)
    wrong = []
    for route in routes:
        url = "/" + re.sub(r"<int:(\w+)>", lambda m: str(objects[PAGE_IDS[m.group(1)]]) if PAGE_IDS[m.group(1)]
                           else "0", route)
        launching = bool(LAUNCHING.search(route))
        for role in ROLES:
            client = Client()
            if users[role] is not None:
                client.force_login(users[role])
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                status = response.status_code
                assert status < 500, (method, url, role, status)
                # 405: a POST-only action asked with GET, which does nothing for anybody
                if role == "anonymous":
                    ok = status == 405 or (status == 302 and "/accounts/login/" in response.headers["Location"])
                elif role == "viewer" and launching:
                    ok = status in (403, 405)
                else:
                    ok = status != 403
                if not ok:
                    wrong.append((method.upper(), url, role, status))
    assert not wrong, "\n".join(map(str, wrong))


def _ws_routes(objects) -> list[str]:
    ids = {"runs": "run", "training": "training", "iterations": "iteration", "imports": "import"}
    urls = []
    for entry in websocket_urlpatterns:
        route = str(entry.pattern)
        kind = route.split("/")[1]
        urls.append("/" + route.replace("<int:object_id>", str(objects[ids[kind]])) if "<int:" in route else "/" + route)
    return urls


@pytest.mark.django_db(transaction=True)
async def test_every_websocket_refuses_anonymous_users_and_foreign_origins(viewer, researcher):
    objects = await sync_to_async(_objects_for_ws)(researcher)
    urls = _ws_routes(objects)
    assert len(urls) == len(websocket_urlpatterns) >= 4
    own = await sync_to_async(session_headers)(viewer)
    for url in urls:
        for headers, accepted in [([(b"origin", b"http://testserver")], False),
                                  ([h for h in own if h[0] != b"origin"] + [(b"origin", b"http://evil.example")], False),
                                  ([h for h in own if h[0] != b"origin"] + [(b"origin", b"http://testserver:9999")],
                                   False),
                                  (own, True)]:
            communicator = WebsocketCommunicator(application, url, headers=headers)
            connected, _ = await communicator.connect()
            await communicator.disconnect()
            assert connected is accepted, (url, headers, connected)


def _objects_for_ws(researcher) -> dict:
    run = Run.objects.create(name="r", owner=researcher, dataset=import_dataset(
        name="ws", text=EASY, format="minif2f-lean4").dataset)
    return {"run": run.pk, "training": TrainingRun.objects.create(kind="sft", config={}, owner=researcher).pk,
            "iteration": Iteration.objects.create(name="i", owner=researcher).pk,
            "import": ImportJob.objects.create(name="i", file_name="f", file_format="lean-workbook", size_bytes=1).pk}
