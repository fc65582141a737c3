"""Upload size limits: a bill file past its limit, or any other file past the small one, is
refused with a message naming the file and the limit."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.ingest.uploads import OversizedUpload, SizeLimitUploadHandler
from billing.models import IngestJob
from portal.users.models import User
from tests.conftest import TenantClient, api_token

LIMIT = 2048


@pytest.fixture(autouse=True)
def small_limits(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PORTAL_MAX_BILL_UPLOAD_BYTES = LIMIT
    settings.PORTAL_MAX_UPLOAD_BYTES = 1024
    return tmp_path / "media"


def bill_of(size: int, name: str = "big-cur.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"x" * size, content_type="text/csv")


def test_the_api_refuses_a_bill_past_the_limit_by_name(
    client_a: TenantClient, admin_a: User, small_limits: Path
) -> None:
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/ingests/",
        {"files": [bill_of(100, "small.csv"), bill_of(LIMIT + 1)]},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "file_too_large"
    assert body["message"] == "big-cur.csv is larger than the 2 KiB allowed for a bill file."
    assert not IngestJob.objects.exists()
    assert not [path for path in small_limits.rglob("*") if path.is_file()]


def test_a_bill_at_the_limit_is_taken(client_a: TenantClient, admin_a: User) -> None:
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/ingests/", {"files": [bill_of(LIMIT)]}, HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 202, response.content
    assert response.json()["files"][0]["size"] == LIMIT


def test_the_page_shows_a_form_error_for_a_bill_past_the_limit(
    admin_client_a: TenantClient,
) -> None:
    response = admin_client_a.post("/costs/ingests/upload/", {"bills": [bill_of(LIMIT * 3)]})
    assert response.status_code == 200
    assert "big-cur.csv is larger than the 2 KiB allowed for a bill file." in (
        response.content.decode()
    )
    assert not IngestJob.objects.exists()


def test_a_file_sent_anywhere_else_has_the_small_limit(
    client_a: TenantClient, admin_a: User
) -> None:
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/tag-keys/",
        {"name": "team", "logo": bill_of(1025, "logo.png")},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 400
    assert "logo.png is larger than the 1 KiB allowed for an upload." in response.json()["message"]


def test_the_handler_passes_on_nothing_past_the_limit(settings: Any) -> None:
    settings.PORTAL_MAX_BILL_UPLOAD_BYTES = 10
    page = SimpleNamespace(resolver_match=SimpleNamespace(url_name="ingest-upload"))
    handler = SizeLimitUploadHandler(page)
    handler.new_file("files", "cur.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"x" * 6, 0) == b"x" * 6
    assert handler.receive_data_chunk(b"x" * 6, 6) is None
    assert handler.receive_data_chunk(b"x" * 6, 12) is None
    refused = handler.file_complete(18)
    assert isinstance(refused, OversizedUpload)
    assert (refused.name, refused.size, refused.read()) == ("cur.csv", 18, b"")


def test_the_upload_page_says_the_limit_before_a_file_is_chosen(
    admin_client_a: TenantClient,
) -> None:
    page = admin_client_a.get("/costs/ingests/").content.decode()
    assert "CSV, CSV.gz or Parquet, up to 2 KiB each" in page
