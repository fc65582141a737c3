"""No bill is read twice: same-named uploads kept apart, a file given twice read once."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Count, Sum

from billing.generator import GeneratedBill, write_cur_legacy
from billing.ingest.pipeline import run_ingest
from billing.models import CostLineItem, IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from portal.users.models import User
from tests.conftest import TenantClient, api_token

JANUARY = date(2026, 1, 1)
PAYER_ONE, PAYER_TWO = "111111111111", "222222222222"


@pytest.fixture(autouse=True)
def media(tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def bill(folder: Path, payer: str, rows: int = 200, seed: int = 0) -> GeneratedBill:
    """A CUR month of `payer`, written as folder/cur.csv: every payer's bill has that name."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_cur_legacy(
        folder / "cur.csv", rows=rows, period=JANUARY, payer_id=payer, seed=seed, fmt="csv"
    )


def stored(payer: str) -> tuple[int, Decimal]:
    totals = CostLineItem.objects.filter(billing_account_id=payer).aggregate(
        rows=Count("id"), billed=Sum("billed_cost")
    )
    return totals["rows"], totals["billed"]


def expected(generated: GeneratedBill, payer: str) -> tuple[int, Decimal]:
    sums = generated.expected[(JANUARY.isoformat(), payer)]
    return sums.rows, sums.billed_cost


def upload(path: Path, name: str = "cur.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def test_same_named_uploads_of_two_payers_through_the_api_are_both_stored(
    client_a: TenantClient, admin_a: User, tmp_path: Path
) -> None:
    one, two = bill(tmp_path / "one", PAYER_ONE), bill(tmp_path / "two", PAYER_TWO, seed=1)
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/ingests/",
        {"files": [upload(one.path), upload(two.path)]},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 202, response.content
    assert [f["name"] for f in response.json()["files"]] == ["cur.csv", "cur.csv (2)"]
    job = run_ingest(response.json()["id"])
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == expected(one, PAYER_ONE)
    assert stored(PAYER_TWO) == expected(two, PAYER_TWO)
    assert not any("read once" in note for note in job.notes)


def test_same_named_uploads_of_two_payers_through_the_page_are_both_stored(
    admin_client_a: TenantClient, tmp_path: Path
) -> None:
    one, two = bill(tmp_path / "one", PAYER_ONE), bill(tmp_path / "two", PAYER_TWO, seed=1)
    response = admin_client_a.post(
        "/costs/ingests/upload/", {"bills": [upload(one.path), upload(two.path)]}
    )
    assert response.status_code == 302
    job = run_ingest(IngestJob.objects.get().pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == expected(one, PAYER_ONE)
    assert stored(PAYER_TWO) == expected(two, PAYER_TWO)
    page = admin_client_a.get(f"/costs/ingests/{job.pk}/").content.decode()
    assert "cur.csv (2)" in page


def test_the_same_path_given_twice_is_read_once_with_a_note(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    one = bill(tmp_path, PAYER_ONE)
    job = run_ingest(ingest_job_create(actor=None, paths=[one.path, one.path], enqueue=False).pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == expected(one, PAYER_ONE)
    assert job.rows_read == one.expected[(JANUARY.isoformat(), PAYER_ONE)].rows
    assert "cur.csv was given twice: read once." in job.notes
    assert len(job.files) == 1


def test_ingest_costs_given_one_path_twice_reads_it_once_and_says_so(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    one = bill(tmp_path, PAYER_ONE)
    out = io.StringIO()
    call_command(
        "ingest_costs", "--tenant", tenant_a.schema_name, "--inline", one.path, one.path, stdout=out
    )
    assert "note: cur.csv was given twice: read once." in out.getvalue()
    assert stored(PAYER_ONE) == expected(one, PAYER_ONE)


def test_a_copy_under_another_name_is_read_once_with_a_note(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    one = bill(tmp_path, PAYER_ONE)
    copy = tmp_path / "copy-of-cur.csv"
    copy.write_bytes(one.path.read_bytes())
    job = run_ingest(ingest_job_create(actor=None, paths=[one.path, copy], enqueue=False).pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == expected(one, PAYER_ONE)
    assert "copy-of-cur.csv has the same contents as cur.csv: read once." in job.notes


def test_a_file_listed_by_a_manifest_and_given_again_is_read_once(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    report = write_cur_legacy(
        tmp_path / "report.csv", rows=300, period=JANUARY, payer_id=PAYER_ONE, fmt="csv", parts=2
    )
    manifest = tmp_path / "report-Manifest.json"
    part = sorted(tmp_path.glob("report-0000*.csv"))[0]
    job = run_ingest(ingest_job_create(actor=None, paths=[manifest, part], enqueue=False).pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == expected(report, PAYER_ONE)
    assert f"{part.name} was given twice: read once." in job.notes


def test_the_same_bill_uploaded_twice_is_read_once(
    client_a: TenantClient, admin_a: User, tmp_path: Path
) -> None:
    one = bill(tmp_path, PAYER_ONE)
    token = api_token(client_a, admin_a.username)
    response = client_a.post(
        "/api/v1/ingests/",
        {"files": [upload(one.path), upload(one.path, "cur (1).csv")]},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 202, response.content
    assert response.json()["notes"] == ["cur (1).csv has the same contents as cur.csv: read once."]
    job = run_ingest(response.json()["id"])
    assert stored(PAYER_ONE) == expected(one, PAYER_ONE)
    assert job.notes[0] == "cur (1).csv has the same contents as cur.csv: read once."


# Line items repeated across or within files of one billing period and payer.

CUR_HEADER = (
    "identity/LineItemId,identity/TimeInterval,bill/PayerAccountId,bill/BillingPeriodStartDate,"
    "bill/BillingPeriodEndDate,lineItem/UsageStartDate,lineItem/UsageEndDate,"
    "lineItem/LineItemType,lineItem/UnblendedCost,lineItem/CurrencyCode"
)
HOUR_ONE = ("2026-01-05T00:00:00Z", "2026-01-05T01:00:00Z")
HOUR_TWO = ("2026-01-05T01:00:00Z", "2026-01-05T02:00:00Z")


def cur_row(line_item_id: str, cost: str, payer: str = PAYER_ONE, hour: Any = HOUR_ONE) -> str:
    start, end = hour
    return (
        f"{line_item_id},{start}/{end},{payer},2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,"
        f"{start},{end},Usage,{cost},USD"
    )


def write_cur(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([CUR_HEADER, *rows]) + "\n")
    return path


def ingest(*paths: Path) -> IngestJob:
    return run_ingest(ingest_job_create(actor=None, paths=paths, enqueue=False).pk)


def repeats(job: IngestJob) -> list[tuple[str, int | None, str, str]]:
    found = job.issues.filter(message__startswith="repeats a line item").order_by("file", "row")
    return [(issue.file, issue.row, issue.column, issue.value) for issue in found]


def test_line_items_repeated_in_another_file_are_counted_once(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    january = bill(tmp_path, PAYER_ONE, rows=300)
    lines = january.path.read_text().splitlines()
    again = tmp_path / "late-delivery.csv"  # 40 of January's line items delivered again
    again.write_text("\n".join(lines[:41]) + "\n")
    repeated = [row for row in csv.DictReader(again.open())]
    repeated_cost = sum((Decimal(row["lineItem/UnblendedCost"]) for row in repeated), Decimal(0))

    job = ingest(january.path, again)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == expected(january, PAYER_ONE)
    assert job.rows_read == 340 and job.rows_rejected == 40
    period = job.period_sums.get()
    assert period.rejected_billed_cost == repeated_cost
    assert period.source_billed_cost == expected(january, PAYER_ONE)[1] + repeated_cost
    assert period.reconciled
    assert repeats(job) == [
        ("late-delivery.csv", line, "identity/LineItemId", row["identity/LineItemId"])
        for line, row in enumerate(repeated, start=2)
    ]


def test_a_line_item_repeated_within_a_file_is_stored_once_its_id_in_other_hours_each_time(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    path = write_cur(
        tmp_path / "cur.csv",
        cur_row("aaaa1111", "10.00"),
        cur_row("bbbb2222", "2.50"),
        cur_row("aaaa1111", "10.00"),
        cur_row("aaaa1111", "1.00", hour=HOUR_TWO),
        cur_row("aaaa1111", "4.00", payer=PAYER_TWO),
        cur_row("", "8.00"),
        cur_row("", "16.00"),
    )
    job = ingest(path)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored(PAYER_ONE) == (5, Decimal("37.50"))
    assert stored(PAYER_TWO) == (1, Decimal("4.00"))
    assert repeats(job) == [("cur.csv", 4, "identity/LineItemId", "aaaa1111")]
    period = job.period_sums.get(billing_account_id=PAYER_ONE)
    assert (period.source_billed_cost, period.rejected_billed_cost) == (Decimal("47.50"), 10)
    assert period.reconciled
