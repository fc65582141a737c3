"""Starting an ingest by upload (API and page), following it, and who may."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.ingest import pipeline
from billing.models import IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from portal.audit.models import AuditEntry
from portal.tenants.models import Tenant
from portal.users.models import Role, User
from tests.billing.ingest_fakes import FakeFiles, batch, line
from tests.conftest import TenantClient, api_token, make_user


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> FakeFiles:
    """Uploaded files land in tmp_path; every upload reads as two good rows."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    fake = FakeFiles(tmp_path)

    def open_any(path: Path, **kwargs: Any) -> Any:
        reader = fake.readers.get(str(Path(path).resolve()))
        return reader or fake.open_bill(fake.add(Path(path).name + ".src", batch([line(), line()])))

    monkeypatch.setattr(pipeline, "open_bill", open_any)
    return fake


def test_admin_uploads_through_the_api_and_follows_the_job(
    client_a: TenantClient,
    admin_a: User,
    uploads: FakeFiles,
    django_capture_on_commit_callbacks: Any,
) -> None:
    token = api_token(client_a, admin_a.username)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_a.post(
            "/api/v1/ingests/",
            {"files": [SimpleUploadedFile("cur-2026-01.csv", b"lineItem/UnblendedCost\n1\n")]},
            HTTP_AUTHORIZATION=f"Token {token}",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["files"][0]["name"] == "cur-2026-01.csv"
    assert "path" not in body["files"][0]
    assert len(callbacks) == 1  # the Celery task is queued once the job is committed
    pipeline.run_ingest(body["id"])
    detail = client_a.get(f"/api/v1/ingests/{body['id']}/", HTTP_AUTHORIZATION=f"Token {token}")
    data = detail.json()
    assert data["status"] == "succeeded"
    assert data["rows_stored"] == 2
    assert data["progress_percent"] == 100
    assert data["period_sums"][0]["stored_billed_cost"] == "2.50"
    assert data["period_sums"][0]["reconciled"] is True
    assert AuditEntry.objects.filter(action="ingestjob.create", object_id=str(body["id"])).exists()


def test_an_upload_without_files_is_refused(client_a: TenantClient, admin_a: User) -> None:
    token = api_token(client_a, admin_a.username)
    response = client_a.post("/api/v1/ingests/", {}, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 400
    assert response.json()["code"] == "no_files"
    assert not IngestJob.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.FINANCE, Role.RESELLER_ADMIN, Role.TEAM_LEAD, Role.END_CUSTOMER]
)
def test_only_admins_load_bills(client_a: TenantClient, role: str, uploads: FakeFiles) -> None:
    person = make_user(role, f"p-{role}")
    token = api_token(client_a, person.username)
    response = client_a.post(
        "/api/v1/ingests/",
        {"files": [SimpleUploadedFile("x.csv", b"a\n1\n")]},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 403
    listing = client_a.get("/api/v1/ingests/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listing.status_code == 200
    readers = {Role.FINANCE, Role.RESELLER_ADMIN}
    assert (listing.json()["results"] == []) or role in readers


def test_the_page_uploads_and_shows_the_outcome(
    admin_client_a: TenantClient, uploads: FakeFiles
) -> None:
    page = admin_client_a.get("/costs/ingests/")
    assert b"Load bill files" in page.content
    response = admin_client_a.post(
        "/costs/ingests/upload/", {"bills": [SimpleUploadedFile("focus.csv", b"BilledCost\n1\n")]}
    )
    assert response.status_code == 302
    job = IngestJob.objects.get()
    running = admin_client_a.get(f"/costs/ingests/{job.pk}/")
    assert b'http-equiv="refresh"' in running.content
    pipeline.run_ingest(job.pk)
    done = admin_client_a.get(f"/costs/ingests/{job.pk}/").content.decode()
    assert "refresh" not in done
    assert "Succeeded" in done and "matches" in done
    assert job.status == IngestStatus.QUEUED  # (the object above; the page read the new state)


def test_finance_sees_ingests_but_no_upload_form(client_a: TenantClient, tenant_a: Tenant) -> None:
    finance = make_user(Role.FINANCE, "fin")
    client_a.force_login(finance)
    page = client_a.get("/costs/ingests/")
    assert page.status_code == 200
    assert b"Load bill files" not in page.content
    assert client_a.post("/costs/ingests/upload/", {}).status_code == 403


def test_admins_configure_tag_keys_and_their_aliases(client_a: TenantClient, admin_a: User) -> None:
    token = api_token(client_a, admin_a.username)
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Token {token}"}
    created = client_a.post(
        "/api/v1/tag-keys/",
        {"name": "team", "aliases": ["Team", "TEAM", "team"]},
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    assert created.json()["aliases"] == ["TEAM", "Team"]
    clash = client_a.post(
        "/api/v1/tag-keys/", {"name": "Team"}, content_type="application/json", **auth
    )
    assert clash.status_code == 400
    assert clash.json()["code"] == "name_is_alias"
    client_a.post("/api/v1/tag-keys/", {"name": "env"}, content_type="application/json", **auth)
    refused = client_a.patch(
        f"/api/v1/tag-keys/{created.json()['id']}/",
        {"aliases": ["Team", "env"]},
        content_type="application/json",
        **auth,
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "alias_is_key"
    assert AuditEntry.objects.filter(action="tagkey.create").count() == 2


def test_the_dashboard_lists_loaded_bills_for_finance_not_for_team_leads(
    client_a: TenantClient, uploads: FakeFiles
) -> None:
    path = uploads.add("jan.csv", batch([line(billed_cost="1234.5")]))
    pipeline.run_ingest(ingest_job_create(actor=None, paths=[path], enqueue=False).pk)
    finance, lead = make_user(Role.FINANCE, "fin"), make_user(Role.TEAM_LEAD, "lead")
    client_a.force_login(finance)
    page = client_a.get("/").content.decode()
    assert "Bills loaded" in page and "1,234.50" in page
    client_a.force_login(lead)
    assert "Bills loaded" not in client_a.get("/").content.decode()
