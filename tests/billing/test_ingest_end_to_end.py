"""Real files through the whole ingest: generated bills of each format and the FOCUS sample."""

from __future__ import annotations

import gzip
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from billing.generator import write_cur2, write_cur_legacy, write_focus
from billing.ingest.pipeline import run_ingest
from billing.models import CostLineItem, DailyTagCost, IngestJob, IngestStatus, TagKey
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from tests.conftest import shared_data

PAYER = "123456789012"
JANUARY = date(2026, 1, 1)
SAMPLE = shared_data("focus-sample", "focus_sample.csv")


def ingest(*paths: Path) -> IngestJob:
    return run_ingest(ingest_job_create(actor=None, paths=paths, enqueue=False).pk)


def stored(payer: str = PAYER) -> tuple[int, Decimal, Decimal]:
    totals = CostLineItem.objects.filter(billing_account_id=payer).aggregate(
        rows=Count("id"), billed=Sum("billed_cost"), effective=Sum("effective_cost")
    )
    return totals["rows"], totals["billed"], totals["effective"]


@pytest.mark.parametrize(
    ("write", "fmt"),
    [
        (write_cur_legacy, "csv.gz"),
        (write_cur_legacy, "parquet"),
        (write_cur2, "csv.gz"),
        (write_cur2, "parquet"),
        (write_focus, "csv"),
        (write_focus, "parquet"),
    ],
)
def test_each_format_is_stored_with_the_bills_own_sums_to_the_cent(
    tenant_a: Tenant, tmp_path: Path, write: object, fmt: str
) -> None:
    bill = write(tmp_path / f"bill.{fmt}", rows=3000, period=JANUARY, payer_id=PAYER, fmt=fmt)  # type: ignore[operator]
    expected = bill.expected[(JANUARY.isoformat(), PAYER)]
    job = ingest(bill.path)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (expected.rows, expected.billed_cost, expected.effective_cost)
    period_sum = job.period_sums.get()
    assert period_sum.source_billed_cost == expected.billed_cost
    assert period_sum.reconciled


def test_a_split_report_is_read_from_its_manifest(tenant_a: Tenant, tmp_path: Path) -> None:
    TagKey.objects.create(name="team", aliases=["Team"])
    bill = write_cur_legacy(
        tmp_path / "cur", rows=4000, period=JANUARY, payer_id=PAYER, fmt="csv.gz", parts=3
    )
    assert bill.path.name.endswith("Manifest.json")
    job = ingest(bill.path)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert [f["name"] for f in job.files] == [p.name for p in bill.paths]
    expected = bill.expected[(JANUARY.isoformat(), PAYER)]
    assert stored()[1:] == (expected.billed_cost, expected.effective_cost)
    by_team = DailyTagCost.objects.filter(grain="tag", tag_key="team")
    assert by_team.aggregate(t=Sum("billed_cost"))["t"] == expected.billed_cost
    assert by_team.exclude(tag_value=None).exists()


def test_restating_a_month_with_a_new_bill_replaces_it(tenant_a: Tenant, tmp_path: Path) -> None:
    first = write_cur_legacy(tmp_path / "v1.csv.gz", rows=2000, period=JANUARY, payer_id=PAYER)
    second = write_cur_legacy(
        tmp_path / "v2.csv.gz", rows=2500, period=JANUARY, payer_id=PAYER, seed=7
    )
    assert ingest(first.path).status == IngestStatus.SUCCEEDED
    assert ingest(second.path).status == IngestStatus.SUCCEEDED
    expected = second.expected[(JANUARY.isoformat(), PAYER)]
    assert stored() == (expected.rows, expected.billed_cost, expected.effective_cost)
    assert ingest(second.path).status == IngestStatus.UNCHANGED


def test_a_truncated_gzip_fails_and_keeps_the_month_stored_before(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    good = write_cur_legacy(tmp_path / "good.csv.gz", rows=2000, period=JANUARY, payer_id=PAYER)
    assert ingest(good.path).status == IngestStatus.SUCCEEDED
    before = stored()
    newer = write_cur_legacy(
        tmp_path / "newer.csv.gz", rows=2000, period=JANUARY, payer_id=PAYER, seed=3
    )
    data = newer.path.read_bytes()
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    job = ingest(truncated)
    assert job.status == IngestStatus.FAILED
    assert "truncated.csv.gz" in job.message
    assert stored() == before


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"name,age\nann,3\n", "not"),
        (
            gzip.compress(b"lineItem/UnblendedCost,lineItem/LineItemType\n1,Usage\n", mtime=0),
            "without required columns: bill/payeraccountid",
        ),
    ],
    ids=["empty", "not a bill", "missing columns"],
)
def test_files_that_are_not_usable_bills_fail_with_a_message_naming_the_file(
    tenant_a: Tenant, tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    job = ingest(path)
    assert job.status == IngestStatus.FAILED
    assert "upload.csv" in job.message
    assert words in job.message.lower()
    assert not CostLineItem.objects.exists()


def test_the_focus_sample_loads_and_reports_what_it_interpreted_or_rejected(
    tenant_a: Tenant,
) -> None:
    job = ingest(SAMPLE)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    # Six Oracle rows without a ContractedCost are kept at their BilledCost; the seventh
    # is charged before its billing period.
    assert (job.rows_read, job.rows_stored, job.rows_rejected) == (1000, 999, 1)
    assert job.formats == ["focus 1.0"]
    rejected = job.issues.filter(kind="rejected").order_by("row")
    assert sorted({i.row for i in rejected}) == [946]
    frequency = "ChargeFrequency is read as 'Usage-Based'"
    assert job.issue_counts[f"focus_sample.csv | ChargeFrequency | {frequency} | interpreted"] == 7
    for row in job.period_sums.all():
        assert row.reconciled, row


def test_ingest_costs_prints_the_samples_sums_in_columns_that_can_be_told_apart(
    tenant_a: Tenant,
) -> None:
    out = io.StringIO()
    call_command(
        "ingest_costs", "--tenant", tenant_a.schema_name, "--inline", str(SAMPLE), stdout=out
    )
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Period"))
    table = [re.split(r"\s{2,}", line.strip()) for line in lines[header:]]
    assert table[0][2:5] == ["BilledCost in files", "stored", "rejected"]
    rows = {(cells[0], cells[1]): cells for cells in table[1:]}
    # An Azure billing account is a long path; it stays whole and its figures stay apart.
    azure = rows[("2024-09", "/providers/Microsoft.Billing/billingAccounts/8611537")]
    assert len(azure) == 9 and azure[-1] == "matches"
    # Row 946's BilledCost is shown as rejected under its own period; zeros in fixed point.
    assert rows[("2024-10", "20209880")][2:5] == ["0.24", "0", "0.24"]
    assert "E-" not in out.getvalue()
