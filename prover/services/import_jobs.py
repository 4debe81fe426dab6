"""Large data files imported in the background (docs/data.md#large-imports).

A file over BURNQED_IMPORT_INLINE_MAX_BYTES would hold a web request for as long as it takes to read, so the
request only checks what it can check at once (name, size, encoding, format), saves the bytes on shared storage
and queues an ImportJob on the `cpu` queue. The worker imports it with the same all-or-nothing service as an
inline import, numbered `progress` frames go to the job's channel, and the job ends with the import's summary or
its error. The saved upload is removed when the job ends either way.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from jobs import live
from jobs.errors import ServiceError
from jobs.lifecycle import Heartbeat, claim, settle
from jobs.models import FINISHED, JobStatus
from jobs.roles import can_launch
from prover.engine.trajectory import write_atomically

from ..models import ImportJob
from .datasets import check_new_name, decoded_upload, import_dataset

log = logging.getLogger(__name__)


def runs_in_background(upload) -> bool:
    return upload.size is not None and upload.size > settings.BURNQED_IMPORT_INLINE_MAX_BYTES


def upload_path_of(job: ImportJob) -> Path:
    return settings.BURNQED_IMPORT_DIR / f"import-{job.pk}-{job.key.hex[:12]}.upload"


def queue_import(*, upload, name: str, format: str = "auto", user=None, **fields: str) -> ImportJob:
    """Check the upload, save it and queue its import; the ImportJob says how it goes. Refused at once (and
    nothing saved) for a bad name, an oversized or non-UTF-8 file or an unknown format."""
    if not can_launch(user):
        raise ServiceError("importing a dataset needs the researcher or admin role")
    name = check_new_name(name)
    if ImportJob.objects.filter(name=name).exclude(status__in=FINISHED).exists():
        raise ServiceError(f'a dataset named "{name}" is being imported already; pick another name', field="name")
    text, file_format = decoded_upload(upload, format)
    data = text.encode("utf-8")
    with transaction.atomic():
        job = ImportJob.objects.create(name=name, owner=user, config=dict(fields),
                                       file_name=upload.name or "", file_format=file_format, size_bytes=len(data),
                                       total=text.count("\n") + 1)
        path = upload_path_of(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, data)
        transaction.on_commit(lambda: _enqueue(job))
    return job


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, lambda partial: partial.write_bytes(data))
    except OSError as exc:
        raise ServiceError(f"the upload could not be saved for its import ({exc})", field="file") from None


def _enqueue(job: ImportJob) -> None:
    from ..tasks import import_file

    import_file.delay(job.pk, job.key.hex)


def execute_import(*, job_id: int, key: str) -> str:
    """Import a queued file on this worker, all or nothing. Never raises; the job ends succeeded or failed with
    the reason (a bad line names its line, as an inline import does)."""
    job = ImportJob.objects.filter(pk=job_id, key=key).first()
    if job is None:
        return "unknown import"  # a message older than this database
    if job.finished or not claim(job=job):
        return job.status
    channel = live.JobChannel.of(job)
    path = upload_path_of(job)
    try:
        with Heartbeat(job):
            summary = _import(job, path, channel)
        ImportJob.objects.filter(pk=job.pk).update(dataset=summary.dataset, summary=summary.as_dict(),
                                                   phase=ImportJob.Phase.DONE, done=summary.theorems,
                                                   total=summary.theorems)
        settle(job=job, to=JobStatus.SUCCEEDED)
    except ServiceError as exc:
        settle(job=job, to=JobStatus.FAILED, error=exc.message)
    except Exception as exc:
        log.exception("import %s failed", job_id)
        settle(job=job, to=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
    finally:
        path.unlink(missing_ok=True)
    job.refresh_from_db()
    live.send_frame(channel, "status", {"status": job.status, "error": job.error, "summary": job.summary})
    return job.status


def _import(job: ImportJob, path: Path, channel: live.JobChannel):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ServiceError(f"the uploaded file {job.file_name} is gone from {path} (was BURNQED_IMPORT_DIR "
                           "shared with this worker?)") from None
    ImportJob.objects.filter(pk=job.pk).update(phase=ImportJob.Phase.READING)

    def parsed(count: int) -> None:
        # Called before the import's transaction opens: on SQLite nothing else may write while it is open.
        ImportJob.objects.filter(pk=job.pk).update(phase=ImportJob.Phase.STORING, total=count)
        live.send_frame(channel, "progress", {"phase": ImportJob.Phase.STORING, "done": 0, "total": count})

    def progress(done: int, total: int) -> None:
        live.send_frame(channel, "progress", {"phase": ImportJob.Phase.STORING, "done": done, "total": total})

    return import_dataset(name=job.name, text=text, format=job.file_format, path=job.file_name, user=job.owner,
                          on_parsed=parsed, progress=progress, **job.config)


def close_reaped_import(job: ImportJob) -> None:
    """Its worker died: the import's transaction died with it (nothing stored); the saved upload goes too."""
    upload_path_of(job).unlink(missing_ok=True)
