"""Starting ingests of bill files; the work itself runs in Celery (billing.tasks)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction

from billing.ingest.contract import BillFileError
from billing.ingest.duplicates import keep_first_of_each_content, repeat_notes
from billing.ingest.manifest import expand_manifests
from billing.ingest.uploads import bill_upload_limit, too_large_message
from billing.models import IngestJob
from portal.audit.services import acting_user, audit_record, snapshot
from portal.core.errors import ApplicationError


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(path: Path, name: str) -> dict[str, Any]:
    if not path.is_file():
        raise ApplicationError(f"{name}: no such file.", code="file_missing", field="files")
    return {
        "name": name,
        "path": str(path),
        "size": path.stat().st_size,
        "sha256": file_sha256(path),
    }


def upload_dir() -> Path:
    """Where uploaded bills are kept: shared storage when workers run elsewhere."""
    folder = Path(settings.MEDIA_ROOT) / "ingest" / connection.schema_name / uuid.uuid4().hex  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store_upload(upload: UploadedFile, folder: Path) -> dict[str, Any]:
    """Copy one upload into `folder` under its content's sha256 (never under its own name,
    which another upload may share), refusing it past the bill size limit."""
    name = Path(upload.name or "upload").name
    limit = bill_upload_limit()
    if (upload.size or 0) > limit:
        raise ApplicationError(too_large_message(name, limit), code="file_too_large", field="files")
    digest, size = hashlib.sha256(), 0
    partial = folder / f"{uuid.uuid4().hex}.part"
    with partial.open("wb") as handle:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                raise ApplicationError(
                    too_large_message(name, limit), code="file_too_large", field="files"
                )
            digest.update(chunk)
            handle.write(chunk)
    target = folder / digest.hexdigest()
    partial.replace(target)
    return {"name": name, "path": str(target), "size": size, "sha256": digest.hexdigest()}


@transaction.atomic
def ingest_job_create(
    *,
    actor: Any,
    paths: Iterable[Path] = (),
    uploads: Iterable[UploadedFile] = (),
    enqueue: bool = True,
) -> IngestJob:
    """Record an ingest of local files or uploads and queue it on the ingest queue.

    With `enqueue=False` the caller runs it (`billing.ingest.pipeline.run_ingest`).
    """
    try:
        local = expand_manifests([Path(path).resolve() for path in paths])
    except BillFileError as exc:
        raise ApplicationError(str(exc), code="bad_manifest", field="files") from exc
    files = [_describe(path, path.name) for path in local]
    uploads = list(uploads)
    if uploads:
        folder = upload_dir()
        try:
            files += [_store_upload(upload, folder) for upload in uploads]
        except ApplicationError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    if not files:
        raise ApplicationError("Give at least one bill file.", code="no_files", field="files")
    # The same contents given twice (a path repeated, the same bill uploaded under two
    # names) are read once; the note names the repeat.
    files = keep_first_of_each_content(files)
    fingerprint = hashlib.sha256("".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()
    job = IngestJob.objects.create(
        created_by=acting_user(actor),
        files=files,
        fingerprint=fingerprint,
        notes=repeat_notes(files),
    )
    audit_record(actor=actor, action="ingestjob.create", instance=job, after=snapshot(job))
    if enqueue:
        from billing.tasks import ingest_costs

        schema = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(lambda: ingest_costs.delay(schema, job.pk))
    return job
