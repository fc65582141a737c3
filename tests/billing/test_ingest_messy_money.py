"""Messy real bills lose no money: a value a row does not use never rejects it, every
spelling of null is read as null and reported, FOCUS costs a row lacks are derived."""

from __future__ import annotations

import csv
import html
import io
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from billing.ingest.contract import NormalizedBatch, Sums
from billing.ingest.formats import snake
from billing.ingest.pipeline import run_ingest
from billing.ingest.readers import open_bill
from billing.ingest.reconcile import rejected_money
from billing.models import CostLineItem, IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from tests.conftest import TenantClient

PAYER = "111122223333"
KEY = ("2026-01-01", PAYER)
TYPE, COST = "lineItem/LineItemType", "lineItem/UnblendedCost"
SP_EFFECTIVE = "savingsPlan/SavingsPlanEffectiveCost"
SP_TOTAL, SP_USED = "savingsPlan/TotalCommitmentToDate", "savingsPlan/UsedCommitment"
RI_EFFECTIVE = "reservation/EffectiveCost"
RI_UPFRONT = "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"
RI_RECURRING = "reservation/UnusedRecurringFee"
# A legacy CUR row as an open-source CUR generator writes it: Python's None, as text, in
# the Savings Plan and reservation columns of lines that have no such commitment.
CUR_ROW = {
    "identity/LineItemId": "", "bill/PayerAccountId": PAYER,
    "bill/BillingPeriodStartDate": "2026-01-01T00:00:00Z",
    "bill/BillingPeriodEndDate": "2026-02-01T00:00:00Z",
    "lineItem/UsageAccountId": "210000000001", TYPE: "Usage",
    "lineItem/UsageStartDate": "2026-01-05T00:00:00Z",
    "lineItem/UsageEndDate": "2026-01-05T01:00:00Z", "lineItem/ProductCode": "AmazonEC2",
    "lineItem/UsageType": "BoxUsage:m5.large", "lineItem/UsageAmount": "1",
    "lineItem/CurrencyCode": "USD", COST: "0.096", "lineItem/ResourceId": "i-0abc",
    "pricing/publicOnDemandCost": "0.096", "savingsPlan/SavingsPlanARN": "None",
    SP_EFFECTIVE: "None", "savingsPlan/SavingsPlanRate": "None", SP_TOTAL: "None",
    SP_USED: "None", "reservation/ReservationARN": "None", RI_EFFECTIVE: "None",
    RI_UPFRONT: "None", RI_RECURRING: "None",
}  # fmt: skip
SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/0f6e"
CUR_MONTH = [  # line item type, its own columns, EffectiveCost
    ("Usage", {COST: "0.096"}, "0.096"),
    ("Usage", {COST: "1.25", "lineItem/ProductCode": "AmazonS3"}, "1.25"),
    ("Tax", {COST: "0.27", "lineItem/UsageAmount": "None"}, "0.27"),
    ("Credit", {COST: "-0.5"}, "-0.5"),
    ("Refund", {COST: "-0.01"}, "-0.01"),
    ("Fee", {COST: "29"}, "29"),
    (
        "SavingsPlanCoveredUsage",
        {COST: "0.096", SP_EFFECTIVE: "0.061", "savingsPlan/SavingsPlanARN": SP_ARN},
        "0.061",
    ),
    ("SavingsPlanNegation", {COST: "-0.096", "savingsPlan/SavingsPlanARN": SP_ARN}, "0"),
    ("SavingsPlanRecurringFee", {COST: "0.07", SP_TOTAL: "0.07", SP_USED: "0.061"}, "0.009"),
]


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, *([row.get(name, "") for name in header] for row in rows)])
    path.write_text(out.getvalue())
    return path


def cur_month(tmp_path: Path) -> Path:
    rows = [{**CUR_ROW, TYPE: kind, **columns} for kind, columns, _ in CUR_MONTH]
    return write_csv(tmp_path / "cur.csv", list(CUR_ROW), rows)


def read(path: Path) -> NormalizedBatch:
    (batch,) = open_bill(path).batches()
    return batch


def counts_of(batch: NormalizedBatch, column: str) -> dict[str, int]:
    return {
        f"{message} ({kind})": count
        for (_, name, message, kind), count in batch.issue_counts.items()
        if name == column
    }


def test_none_in_commitment_columns_of_plain_lines_rejects_no_row(tmp_path: Path) -> None:
    batch = read(cur_month(tmp_path))

    assert batch.rejected_sums == {}
    assert batch.table["effective_cost"].to_pylist() == [e for _, _, e in CUR_MONTH]
    file_total = sum((D(columns[COST]) for _, columns, _ in CUR_MONTH), D(0))
    amortized = sum((D(effective) for _, _, effective in CUR_MONTH), D(0))
    assert batch.source_sums == {KEY: Sums(9, file_total, amortized)}
    assert file_total == D("30.176")
    # Each is reported once per column, with the number of rows.
    assert counts_of(batch, SP_EFFECTIVE) == {"the literal None is read as null (interpreted)": 8}
    assert counts_of(batch, "lineItem/UsageAmount") == {
        "the literal None is read as null (interpreted)": 1
    }
    assert batch.table["pricing_quantity"].to_pylist()[2] is None


def test_a_commitment_line_without_its_own_value_is_kept_at_its_billed_cost(
    tmp_path: Path,
) -> None:
    rows = [
        {**CUR_ROW, TYPE: "SavingsPlanCoveredUsage", COST: "0.096", SP_EFFECTIVE: "None"},
        {**CUR_ROW, TYPE: "DiscountedUsage", COST: "0.2", RI_EFFECTIVE: "n/a"},
        {**CUR_ROW, TYPE: "RIFee", COST: "3", RI_UPFRONT: "1", RI_RECURRING: "abc"},
    ]
    batch = read(write_csv(tmp_path / "cur.csv", list(CUR_ROW), rows))

    assert batch.table["effective_cost"].to_pylist() == ["0.096", "0.2", "3"]
    assert batch.source_sums == {KEY: Sums(3, D("3.296"), D("3.296"))}
    fallback = (
        "is needed for the amortized cost of this line but missing: EffectiveCost = BilledCost"
    )
    assert counts_of(batch, RI_RECURRING) == {
        f"{RI_RECURRING} is not a number; read as null, the row is kept (interpreted)": 1,
        f"{RI_RECURRING} {fallback} (interpreted)": 1,
        "the literal None is read as null (interpreted)": 2,
    }
    assert counts_of(batch, RI_EFFECTIVE)["the literal n/a is read as null (interpreted)"] == 1


SPELLINGS = [
    ("None", "the literal None is read as null"),
    ("NULL", "the literal NULL is read as null"),
    ("null", "the literal null is read as null"),
    ("N/A", "the literal N/A is read as null"),
    ("NaN", "the literal NaN is read as null"),
    ("  ", "a blank value is read as null"),
]
FOCUS_ROW = {
    "BillingAccountId": PAYER, "BillingCurrency": "USD", "ChargeCategory": "Usage",
    "BillingPeriodStart": "2026-01-01T00:00:00Z", "BillingPeriodEnd": "2026-02-01T00:00:00Z",
    "ChargePeriodStart": "2026-01-03T00:00:00Z", "ChargePeriodEnd": "2026-01-04T00:00:00Z",
    "BilledCost": "2.5", "EffectiveCost": "2", "ListCost": "3", "ContractedCost": "2.5",
    "ResourceId": "vm-1", "CommitmentDiscountId": "", "ProviderName": "Microsoft",
}  # fmt: skip


def cur_with(tmp_path: Path, fmt: str, spelling: str) -> tuple[Path, str, str]:
    """Two Usage rows whose public cost and resource id are `spelling`, and the names of
    those columns in `fmt`."""
    row = {**CUR_ROW, "pricing/publicOnDemandCost": spelling, "lineItem/ResourceId": spelling}
    header = list(CUR_ROW)
    if fmt == "cur 2.0 csv":
        header.append("bill/PayerAccountName")
        row["bill/PayerAccountName"] = "Payer"
    if fmt != "cur legacy csv":
        row = {snake(name): value for name, value in row.items()}
        header = [snake(name) for name in header]
    names = [header[list(CUR_ROW).index(n)] for n in ("pricing/publicOnDemandCost",)]
    names.append(header[list(CUR_ROW).index("lineItem/ResourceId")])
    if fmt == "cur legacy parquet":
        path = tmp_path / "bill.parquet"
        pq.write_table(pa.table({name: [row[name]] * 2 for name in header}), path)
    else:
        path = write_csv(tmp_path / "bill.csv", header, [row, row])
    return path, names[0], names[1]


@pytest.mark.parametrize(("spelling", "message"), SPELLINGS)
@pytest.mark.parametrize("fmt", ["cur legacy csv", "cur legacy parquet", "cur 2.0 csv", "focus"])
def test_every_spelling_of_null_is_read_as_null_and_reported_in_every_reader(
    tmp_path: Path, fmt: str, spelling: str, message: str
) -> None:
    if fmt == "focus":
        row = {**FOCUS_ROW, "ListCost": spelling, "ResourceId": spelling}
        path = write_csv(tmp_path / "bill.csv", list(FOCUS_ROW), [row, row])
        cost, resource = "ListCost", "ResourceId"
    else:
        path, cost, resource = cur_with(tmp_path, fmt, spelling)

    batch = read(path)

    assert batch.table.num_rows == 2 and batch.rejected_sums == {}
    assert batch.table["resource_id"].to_pylist() == [None, None]
    assert batch.table["list_cost"].to_pylist() == batch.table["billed_cost"].to_pylist()
    assert counts_of(batch, resource) == {f"{message} (interpreted)": 2}
    assert f"{message} (interpreted)" in counts_of(batch, cost)


def test_focus_rows_without_secondary_costs_are_kept_with_derived_ones(tmp_path: Path) -> None:
    commitment = "/reservations/r-1"
    rows = [
        {**FOCUS_ROW, "ListCost": "", "ContractedCost": "NULL"},
        {**FOCUS_ROW, "EffectiveCost": "", "BilledCost": "4"},
        {**FOCUS_ROW, "ContractedCost": "n/a", "ListCost": "abc"},
        {
            **FOCUS_ROW,
            "ChargeCategory": "Purchase",
            "CommitmentDiscountId": commitment,
            "BilledCost": "100",
            "EffectiveCost": "NULL",
        },
    ]
    batch = read(write_csv(tmp_path / "focus.csv", list(FOCUS_ROW), rows))

    costs = ["billed_cost", "effective_cost", "list_cost", "contracted_cost"]
    assert [list(row.values()) for row in batch.table.select(costs).to_pylist()] == [
        ["2.5", "2", "2.5", "2.5"],
        ["4", "4", "3", "2.5"],
        ["2.5", "2", "2.5", "2.5"],
        ["100", "0", "3", "2.5"],
    ]
    assert batch.rejected_sums == {}
    assert batch.source_sums == {KEY: Sums(4, D("109"), D("8"))}
    assert counts_of(batch, "ContractedCost") == {
        "the literal NULL is read as null (interpreted)": 1,
        "the literal n/a is read as null (interpreted)": 1,
        "ContractedCost is missing: read as BilledCost, as for a charge without a negotiated "
        "price (interpreted)": 2,
    }
    assert counts_of(batch, "EffectiveCost") == {
        "the literal NULL is read as null (interpreted)": 1,
        "EffectiveCost is missing: read as BilledCost (interpreted)": 1,
        "EffectiveCost is missing: read as 0, as for a commitment purchase (interpreted)": 1,
    }


def test_a_focus_file_without_secondary_cost_columns_is_read_with_derived_costs(
    tmp_path: Path,
) -> None:
    header = [name for name in FOCUS_ROW if name not in ("ListCost", "ContractedCost")]
    header.remove("EffectiveCost")
    purchase = {"ChargeCategory": "Purchase", "CommitmentDiscountId": "/ri/1", "BilledCost": "9"}
    path = write_csv(tmp_path / "focus.csv", header, [FOCUS_ROW, {**FOCUS_ROW, **purchase}])

    reader = open_bill(path)
    (batch,) = reader.batches()

    assert reader.notes == [
        f"no {name} column: derived from BilledCost"
        for name in ("EffectiveCost", "ListCost", "ContractedCost")
    ]
    costs = ["billed_cost", "effective_cost", "list_cost", "contracted_cost"]
    assert [list(row.values()) for row in batch.table.select(costs).to_pylist()] == [
        ["2.5", "2.5", "2.5", "2.5"],
        ["9", "0", "9", "9"],
    ]
    assert batch.issues == []
    assert batch.source_sums == {KEY: Sums(2, D("11.5"), D("2.5"))}


def test_a_focus_row_is_rejected_only_for_its_billed_cost_dates_or_account(
    tmp_path: Path,
) -> None:
    rows = [
        {**FOCUS_ROW, "BilledCost": "NULL"},
        {**FOCUS_ROW, "BilledCost": "ten"},
        {**FOCUS_ROW, "ChargePeriodStart": "None"},
        {**FOCUS_ROW, "BillingAccountId": "N/A"},
        {**FOCUS_ROW, "ListCost": "", "ContractedCost": "", "EffectiveCost": ""},
    ]
    batch = read(write_csv(tmp_path / "focus.csv", list(FOCUS_ROW), rows))

    rejected = sorted({(i.row, i.column) for i in batch.issues if i.kind == "rejected"})
    assert rejected == [
        (2, "BilledCost"),
        (3, "BilledCost"),
        (4, "ChargePeriodStart"),
        (5, "BillingAccountId"),
    ]
    assert batch.table.num_rows == 1
    # Rows without a readable BilledCost count as rows worth nothing; a row whose account
    # cannot be read belongs to no payer's sums.
    assert batch.source_sums == {KEY: Sums(4, D("5"), D("8.5"))}
    assert batch.rejected_sums == {KEY: Sums(3, D("2.5"), D("6"))}


# Through the whole ingest: what the page and `ingest_costs` say about rejected money.


def ingest(path: Path) -> IngestJob:
    return run_ingest(ingest_job_create(actor=None, paths=[path], enqueue=False).pk)


def stored_billed(payer: str = PAYER) -> D | None:
    rows = CostLineItem.objects.filter(billing_account_id=payer)
    return rows.aggregate(total=Sum("billed_cost"))["total"]


def test_a_generated_cur_month_is_stored_to_the_cent(tenant_a: Tenant, tmp_path: Path) -> None:
    job = ingest(cur_month(tmp_path))

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored_billed() == D("30.176")  # the file's own total
    period = job.period_sums.get()
    assert (period.source_billed_cost, period.rejected_billed_cost) == (D("30.176"), 0)
    assert rejected_money(job) == "No row was rejected (9 read)."


def test_the_page_and_the_command_say_in_one_line_how_much_money_was_rejected(
    tenant_a: Tenant, admin_client_a: TenantClient, tmp_path: Path
) -> None:
    rows = [
        FOCUS_ROW,
        FOCUS_ROW,
        {**FOCUS_ROW, "ListCost": "NULL"},
        {**FOCUS_ROW, "BilledCost": "5", "ChargePeriodStart": "2025-12-31T00:00:00Z"},
        {**FOCUS_ROW, "BilledCost": "ten"},
        {**FOCUS_ROW, "BilledCost": "7", "BillingAccountId": "NULL"},
    ]
    path = write_csv(tmp_path / "focus.csv", list(FOCUS_ROW), rows)
    out = io.StringIO()

    call_command(
        "ingest_costs", "--tenant", tenant_a.schema_name, "--inline", str(path), stdout=out
    )

    line = (
        "Rejected 3 of 6 rows, worth 5 in BilledCost (40.0% of the files' 12.5); 1 of them "
        "without a readable billing period or payer, so in no sum."
    )
    assert line in out.getvalue().splitlines()
    job = IngestJob.objects.get()
    assert stored_billed() == D("7.5")
    page = html.unescape(admin_client_a.get(f"/costs/ingests/{job.pk}/").content.decode())
    assert line in page
    # The rejected rows are listed first, each with its value; interpreted ones fold away.
    rejected = page.index("<h2>Rejected rows</h2>")
    assert page.index("<code>ten</code>", rejected) < page.index("Interpreted values, row by")


def test_an_ingest_that_stores_no_row_fails_and_leaves_the_month_stored(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    assert ingest(cur_month(tmp_path)).status == IngestStatus.SUCCEEDED
    rows = [{**CUR_ROW, TYPE: "Mystery", COST: cost} for cost in ("1", "2", "3.5")]
    bad = write_csv(tmp_path / "mystery.csv", list(CUR_ROW), rows)

    job = ingest(bad)

    assert job.status == IngestStatus.FAILED
    assert job.message == (
        "No row could be stored: 3 of 3 rows were rejected; most common reason: "
        "lineItem/LineItemType is not a known line item type (3 rows of mystery.csv)."
    )
    assert stored_billed() == D("30.176")  # the month stored before
    assert (job.rows_read, job.rows_stored, job.rows_rejected) == (3, 0, 3)
    period = job.period_sums.get()
    assert (period.source_billed_cost, period.rejected_billed_cost) == (D("6.5"), D("6.5"))
    assert rejected_money(job) == (
        "Rejected 3 of 3 rows, worth 6.5 in BilledCost (100.0% of the files' 6.5)."
    )
    assert not [name for name in connection.introspection.table_names() if "_stage_" in name]


def test_a_payer_whose_rows_are_all_rejected_keeps_its_money_in_the_sums(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    other = "444455556666"
    rows = [
        {**CUR_ROW, COST: "2"},
        {**CUR_ROW, "bill/PayerAccountId": other, COST: "8", TYPE: "Mystery"},
    ]
    job = ingest(write_csv(tmp_path / "two.csv", list(CUR_ROW), rows))

    assert job.status == IngestStatus.SUCCEEDED, job.message
    sums = {s.billing_account_id: s for s in job.period_sums.all()}
    assert sums[other].stored_rows == 0
    assert (sums[other].source_billed_cost, sums[other].rejected_billed_cost) == (8, 8)
    assert stored_billed(other) is None
    assert rejected_money(job) == (
        "Rejected 1 of 2 rows, worth 8 in BilledCost (80.0% of the files' 10)."
    )
