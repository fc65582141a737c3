"""The months of a generated bill: one delivered mid-month (its usage up to the day before,
its sums exact, through the ingest too), and a payer's estate the same every month."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Max, Sum

from billing.generator import GeneratedBill, write_cur2, write_cur_legacy, write_focus
from billing.generator.catalog import snake_case
from billing.ingest.contract import BillFormat
from billing.ingest.pipeline import run_ingest
from billing.models import CostLineItem, IngestStatus, LoadedPeriod
from billing.services.ingests import ingest_job_create
from tests.billing.test_generator import (
    KEY,
    PAYER,
    PERIOD,
    ROWS,
    assert_expected,
    cur_sums,
    dec,
    legacy_name,
    read_rows,
)

MID_MONTH = date(2026, 1, 8)  # delivered on the 8th: usage of the 1st to the 7th


def starts_and_ends(bill: GeneratedBill) -> list[tuple[str, str]]:
    """(start, end) of each line item, as ISO text in UTC, whatever the format."""
    legacy = bill.bill_format == BillFormat.CUR_LEGACY
    start, end = (
        ("lineItem/UsageStartDate", "lineItem/UsageEndDate")
        if legacy
        else ("ChargePeriodStart", "ChargePeriodEnd")
        if bill.bill_format == BillFormat.FOCUS
        else ("line_item_usage_start_date", "line_item_usage_end_date")
    )

    def text(value: Any) -> str:
        return value if isinstance(value, str) else f"{value:%Y-%m-%dT%H:%M:%SZ}"

    return [(text(r[start]), text(r[end])) for p in bill.paths for r in read_rows(p)]


@pytest.mark.parametrize(
    ("writer", "fmt", "col"),
    [(write_cur_legacy, "csv.gz", legacy_name(False)), (write_cur2, "parquet", snake_case),
     (write_focus, "csv", None)],
)  # fmt: skip
def test_a_bill_delivered_mid_month_has_usage_up_to_the_day_before(
    tmp_path: Path, writer: Callable[..., GeneratedBill], fmt: str, col: Any
) -> None:
    bill = writer(
        tmp_path / f"mid.{fmt}", rows=ROWS, period=PERIOD, payer_id=PAYER, fmt=fmt,
        until=MID_MONTH,
    )  # fmt: skip

    times = starts_and_ends(bill)
    assert len(times) == ROWS
    assert max(start for start, _ in times) < "2026-01-08T00:00:00Z"
    assert max(start for start, _ in times) >= "2026-01-07T00:00:00Z"  # up to yesterday
    # Only the monthly rows (fees, credits, tax) run to the period's end.
    assert all(end <= "2026-01-08T00:00:00Z" or start == "2026-01-01T00:00:00Z"
               for start, end in times)  # fmt: skip
    if col is not None:
        assert_expected(bill, *cur_sums(bill.paths, col))
    else:
        rows = list(read_rows(bill.path))
        billed = sum((dec(r["BilledCost"]) for r in rows), Decimal(0))
        effective = sum((dec(r["EffectiveCost"]) for r in rows), Decimal(0))
        assert_expected(bill, len(rows), billed, effective)


def test_until_at_or_after_the_months_end_is_the_whole_month(tmp_path: Path) -> None:
    def written(until: date | None) -> bytes:
        bill = write_cur_legacy(
            tmp_path / f"{until}.csv", rows=500, period=PERIOD, payer_id=PAYER, fmt="csv",
            until=until,
        )  # fmt: skip
        return bill.path.read_bytes()

    whole = written(None)
    assert written(date(2026, 2, 1)) == whole == written(date(2026, 3, 15))
    assert written(MID_MONTH) != whole


def test_a_mid_month_bill_is_ingested_with_its_own_sums(tenant_a: Any, tmp_path: Path) -> None:
    bill = write_cur_legacy(
        tmp_path / "mid.csv.gz", rows=ROWS, period=PERIOD, payer_id=PAYER, until=MID_MONTH
    )

    job = run_ingest(ingest_job_create(actor=None, paths=[bill.path], enqueue=False).pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    stored = CostLineItem.objects.filter(billing_account_id=PAYER).aggregate(
        rows=Count("id"), billed=Sum("billed_cost"), effective=Sum("effective_cost"),
        last=Max("charge_period_start"),
    )  # fmt: skip
    sums = bill.expected[KEY]
    assert (stored["rows"], stored["billed"], stored["effective"]) == (
        sums.rows, sums.billed_cost, sums.effective_cost,
    )  # fmt: skip
    assert stored["last"].date() < MID_MONTH
    assert LoadedPeriod.objects.get(billing_account_id=PAYER).billed_cost == sums.billed_cost


def test_the_months_of_a_payer_share_its_accounts_and_resources(tmp_path: Path) -> None:
    def month(period: date) -> tuple[GeneratedBill, list[dict[str, Any]]]:
        bill = write_focus(tmp_path / f"{period}.csv", rows=ROWS, period=period, payer_id=PAYER)
        return bill, list(read_rows(bill.path))

    (january, jan_rows), (february, feb_rows) = month(PERIOD), month(date(2026, 2, 1))

    def estate(rows: list[dict[str, Any]], column: str) -> set[str]:
        return {r[column] for r in rows if r[column]}

    for column in ("SubAccountId", "ResourceId", "CommitmentDiscountId"):
        assert estate(jan_rows, column) == estate(feb_rows, column), column
    # The usage is the month's own.
    assert january.expected[KEY].billed_cost != february.expected[("2026-02-01", PAYER)].billed_cost


def test_the_usage_accounts_can_be_given(tmp_path: Path) -> None:
    accounts = [(PAYER, "payer"), ("210000000001", "platform-prod"), ("210000000002", "staging"),
                ("210000000003", "data-lake"), ("210000000007", "sandbox-1")]  # fmt: skip
    bill = write_focus(tmp_path / "f.csv", rows=ROWS, period=PERIOD, payer_id=PAYER,
                       accounts=accounts)  # fmt: skip

    seen = {(r["SubAccountId"], r["SubAccountName"]) for r in read_rows(bill.path)}
    assert seen == set(accounts)
    with pytest.raises(ValueError, match="first account must be the payer"):
        write_focus(tmp_path / "x.csv", rows=10, period=PERIOD, payer_id=PAYER,
                    accounts=accounts[1:] + accounts[:1])  # fmt: skip
    with pytest.raises(ValueError, match="accounts must be 5"):
        write_focus(tmp_path / "x.csv", rows=10, period=PERIOD, payer_id=PAYER,
                    accounts=accounts[:3])  # fmt: skip
