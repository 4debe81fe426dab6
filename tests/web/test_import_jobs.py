"""A large upload is imported in the background by a real Celery worker: the request answers at once, the
import job shows its phase and progress (API, admin page, numbered websocket frames), and it ends with the
dataset or with the error naming the line, saving nothing then. The saved upload never outlives its job."""

import io
import time
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.test import APIClient

from burnqed_web.asgi import application
from jobs.reaper import reap_stale_jobs
from prover.models import Dataset, ImportJob, Theorem
from prover.services.import_jobs import upload_path_of
from tests.conftest import consumers_paused
from tests.web.test_realtime import session_headers

pytestmark = pytest.mark.django_db(transaction=True)

WORKBOOK = Path(__file__).resolve().parents[2] / "data/workbook/lean_workbook_statements_subset.jsonl"
WORKBOOK_THEOREMS = 13027  # 3.4 MB: over the 2 MB that import inline


def upload(data: bytes, name: str = "workbook.jsonl") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def post_import(user, data: bytes, name: str):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/datasets/import/", {"file": upload(data), "format": "auto", "name": name},
                       format="multipart")


def wait_finished(job_id: int, timeout_s: float = 120) -> ImportJob:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import {job_id} still {job.status} ({job.phase})")


async def test_a_large_upload_answers_at_once_and_streams_its_progress_until_the_dataset_is_stored(
        researcher, viewer, celery_worker_process):
    paused = consumers_paused(celery_worker_process, ("cpu",))
    await sync_to_async(paused.__enter__)()
    try:
        response = await sync_to_async(post_import)(researcher, WORKBOOK.read_bytes(), "wb")
        assert response.status_code == 202, response.content
        queued = response.json()
        assert (queued["status"], queued["phase"], queued["dataset"]) == ("queued", "waiting", None)
        assert await sync_to_async(upload_path_of(await ImportJob.objects.aget(pk=queued["id"])).exists)()
        communicator = WebsocketCommunicator(application, f"/ws/imports/{queued['id']}/",
                                             headers=await sync_to_async(session_headers)(viewer))
        assert (await communicator.connect())[0]
        hello = await communicator.receive_json_from()
    finally:
        await sync_to_async(paused.__exit__)(None, None, None)  # the worker takes the import now
    frames = []
    while not frames or frames[-1]["kind"] != "status":
        frames.append(await communicator.receive_json_from(timeout=120))
    await communicator.disconnect()

    assert [f["seq"] for f in frames] == list(range(hello["last_seq"] + 1, hello["last_seq"] + 1 + len(frames)))
    stored = [f["payload"]["done"] for f in frames if f["kind"] == "progress"]
    assert stored[0] == 0 and stored == sorted(stored) and len(stored) >= 3, stored
    assert {f["payload"]["total"] for f in frames if f["kind"] == "progress"} == {WORKBOOK_THEOREMS}
    assert frames[-1]["payload"]["status"] == "succeeded"
    assert frames[-1]["payload"]["summary"]["theorems"] == WORKBOOK_THEOREMS

    api = APIClient()
    await sync_to_async(api.force_authenticate)(viewer)
    job = (await sync_to_async(api.get)(f"/api/imports/{queued['id']}/")).json()
    dataset = await Dataset.objects.aget(name="wb")
    assert (job["status"], job["phase"], job["done"], job["total"]) == ("succeeded", "done", WORKBOOK_THEOREMS,
                                                                       WORKBOOK_THEOREMS)
    assert job["dataset"] == dataset.pk and await Theorem.objects.filter(dataset=dataset).acount() == WORKBOOK_THEOREMS
    assert not await sync_to_async(upload_path_of(await ImportJob.objects.aget(pk=queued["id"])).exists)()


def test_a_bad_line_deep_in_a_large_upload_fails_its_job_naming_the_line_and_saves_nothing(
        researcher, celery_worker_process):
    lines = WORKBOOK.read_text(encoding="utf-8").splitlines()
    lines[9000] = lines[9000][:-5]  # truncate the JSON on line 9001
    response = post_import(researcher, "\n".join(lines).encode(), "wb-bad")
    assert response.status_code == 202, response.content
    job = wait_finished(response.json()["id"])
    assert job.status == "failed" and "line 9001" in job.error and "malformed JSON" in job.error, job.error
    assert not Dataset.objects.exists() and not Theorem.objects.exists()
    assert not upload_path_of(job).exists()


def test_what_can_be_checked_at_once_is_refused_before_anything_is_queued(researcher, viewer, settings):
    settings.BURNQED_IMPORT_INLINE_MAX_BYTES = 1000
    big = WORKBOOK.read_bytes()[:5000]
    response = post_import(viewer, big, "wb")
    assert response.status_code == 403
    response = post_import(researcher, b"\xff" * 2000, "wb")
    assert response.status_code == 400 and "not UTF-8" in str(response.json()["file"])
    response = post_import(researcher, big, "bad\u202ename")
    assert response.status_code == 400 and "name" in response.json()
    Dataset.objects.create(name="taken")
    response = post_import(researcher, big, "taken")
    assert response.status_code == 400 and "already exists" in str(response.json()["name"])
    assert not ImportJob.objects.exists()
    ImportJob.objects.create(name="busy", file_name="f", file_format="lean-workbook", size_bytes=1)
    response = post_import(researcher, big, "busy")
    assert response.status_code == 400 and "being imported already" in str(response.json()["name"])
    assert ImportJob.objects.count() == 1


def test_an_import_whose_worker_died_is_failed_by_the_reaper_and_its_upload_removed(settings):
    long_ago = timezone.now() - timedelta(seconds=settings.BURNQED_JOB_STALE_S + 60)
    job = ImportJob.objects.create(name="orphan", file_name="f.jsonl", file_format="lean-workbook", size_bytes=3,
                                   status="running", started_at=long_ago, heartbeat_at=long_ago)
    path = upload_path_of(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}\n")
    assert ("import", job.pk) in reap_stale_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and "no worker reported" in job.error
    assert not path.exists()


def test_the_admin_sends_a_large_upload_to_its_import_page_which_follows_it_to_the_end(
        client, admin_user, celery_worker_process):
    client.force_login(admin_user)
    response = client.post("/admin/prover/dataset/import/",
                           {"file": upload(WORKBOOK.read_bytes()), "format": "auto", "name": "wb-admin"}, follow=True)
    job = ImportJob.objects.get(name="wb-admin")
    assert response.redirect_chain[-1][0] == f"/admin/prover/importjob/{job.pk}/change/"
    page = response.content.decode()
    assert "imported in the background" in page
    job = wait_finished(job.pk)
    assert job.status == "succeeded", job.error
    page = client.get(f"/admin/prover/importjob/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' not in page and "succeeded" in page and f"imported {WORKBOOK_THEOREMS}" in page
    assert Dataset.objects.get(name="wb-admin").theorems.count() == WORKBOOK_THEOREMS
