"""Bills an ingest must refuse, or whose rows it must reject, with a message that names
the file, row and column: impossible billing periods, a column given twice, amounts out of
range, rows too long to read, bytes that are not UTF-8."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from billing.ingest.contract import PeriodKey, Sums
from billing.ingest.formats import snake
from billing.ingest.normalize.times import last_period
from billing.ingest.pipeline import run_ingest
from billing.ingest.readers import open_bill
from billing.models import CostLineItem, IngestJob, IngestStatus, LoadedPeriod
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from tests.billing.bill_rows import CUR_ROW, PAYER

JANUARY = "2026-01-01"
FOCUS = {
    "BillingPeriodStart": "2026-01-01T00:00:00Z", "BillingPeriodEnd": "2026-02-01T00:00:00Z",
    "BillingAccountId": PAYER, "ChargePeriodStart": "2026-01-05T00:00:00Z",
    "ChargePeriodEnd": "2026-01-06T00:00:00Z", "ChargeCategory": "Usage",
    "BillingCurrency": "USD", "BilledCost": "1.5", "EffectiveCost": "1.5", "ListCost": "1.5",
    "ContractedCost": "1.5", "ServiceName": "Compute",
}  # fmt: skip
CUR_COST, FOCUS_COST = "lineItem/UnblendedCost", "BilledCost"


def bill_text(defaults: dict[str, str], changes: list[dict[str, str]]) -> str:
    """A CSV bill of one row per entry of `changes`, each the defaults changed so."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(defaults)
    writer.writerows([{**defaults, **change}.values() for change in changes])
    return out.getvalue()


def ingest(*paths: Path) -> IngestJob:
    return run_ingest(ingest_job_create(actor=None, paths=paths, enqueue=False).pk)


def stored() -> tuple[int, Decimal | None]:
    totals = CostLineItem.objects.filter(billing_account_id=PAYER).aggregate(
        rows=Count("id"), billed=Sum("billed_cost")
    )
    return totals["rows"], totals["billed"]


def rejected(job: IngestJob) -> list[tuple[int, str, str, str]]:
    issues = job.issues.filter(kind="rejected").order_by("row", "id")
    return [(i.row, i.column, i.value, i.message) for i in issues]


def loaded_month(tmp_path: Path) -> tuple[int, Decimal | None]:
    """January of PAYER loaded from a good bill: what a failed ingest must leave alone."""
    good = tmp_path / "good.csv"
    good.write_text(bill_text(CUR_ROW, [{}, {CUR_COST: "2.25"}]))
    assert ingest(good).status == IngestStatus.SUCCEEDED
    assert stored() == (2, Decimal("3.75"))
    return stored()


# 1. Billing periods outside 2000-01 .. twelve months ahead


def _period(start: date) -> tuple[str, str, str, str]:
    """Billing period start and end, and an hour's charge within it, as ISO text."""
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return (
        f"{start.isoformat()}T00:00:00Z",
        f"{end.isoformat()}T00:00:00Z",
        f"{start.isoformat()}T05:00:00Z",
        f"{start.isoformat()}T06:00:00Z",
    )


@pytest.mark.parametrize("fmt", ["cur", "focus"])
def test_rows_of_an_impossible_billing_period_are_rejected_and_their_money_shown(
    tenant_a: Tenant, tmp_path: Path, fmt: str
) -> None:
    too_late = last_period(after=1)
    defaults, cost = (CUR_ROW, CUR_COST) if fmt == "cur" else (FOCUS, FOCUS_COST)
    names = list(defaults)[1:3] if fmt == "cur" else list(defaults)[:2]
    names += ["lineItem/UsageStartDate", "lineItem/UsageEndDate"] if fmt == "cur" else []
    if fmt == "focus":
        names += ["ChargePeriodStart", "ChargePeriodEnd"]
    rows: list[dict[str, str]] = [{}, {}]
    for start, amount in ((date(1, 1, 1), "7"), (date(1999, 12, 1), "8"), (too_late, "9")):
        rows.append({**dict(zip(names, _period(start), strict=True)), cost: amount})
    path = tmp_path / "periods.csv"
    path.write_text(bill_text(defaults, rows))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (2, Decimal("3"))
    latest = last_period()
    message = (
        f"{names[0]} is outside the billing periods a bill can have (2000-01 to {latest:%Y-%m})"
    )
    assert [(row, column, text) for row, column, _, text in rejected(job)] == [
        (4, names[0], message),
        (5, names[0], message),
        (6, names[0], message),
    ]
    assert job.rows_rejected == 3
    # Their money is counted as rejected under the period each names.
    rejected_sums: dict[PeriodKey, Sums] = {}
    for batch in open_bill(path).batches():
        for key, sums in batch.rejected_sums.items():
            rejected_sums.setdefault(key, Sums()).add(sums)
    assert {key: sums.billed_cost for key, sums in rejected_sums.items()} == {
        ("0001-01-01", PAYER): Decimal(7),
        ("1999-12-01", PAYER): Decimal(8),
        (too_late.isoformat(), PAYER): Decimal(9),
    }
    assert list(LoadedPeriod.objects.values_list("billing_period_start", flat=True)) == [
        date(2026, 1, 1)
    ]


def test_a_billing_period_that_ends_years_later_is_rejected(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "end.csv"
    path.write_text(bill_text(CUR_ROW, [{}, {"bill/BillingPeriodEndDate": "2206-01-01T00:00:00Z"}]))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (1, Decimal("1.5"))
    ((row, column, value, _),) = rejected(job)
    assert (row, column, value) == (3, "bill/BillingPeriodEndDate", "2206-01-01T00:00:00Z")


# 2. A header that names a column twice


def _parquet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    columns = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(header))]
    pq.write_table(pa.Table.from_arrays(columns, names=header), path)
    return path


TWICE = "columns {} and {}"
SPELLED = "{} (column {}) and {} (column {})"
DUPLICATES = [
    # (bill, file type, header added at the end, what the refusal says)
    (CUR_ROW, "csv", CUR_COST, f"{CUR_COST} ({TWICE.format(10, 12)})"),
    (CUR_ROW, "csv", "lineItem/LineItemDescription", TWICE.format(11, 12)),
    (
        CUR_ROW,
        "csv",
        "lineitem/unblendedcost",
        SPELLED.format(CUR_COST, 10, "lineitem/unblendedcost", 12),
    ),
    (
        CUR_ROW,
        "parquet",
        "line_item_unblended_cost",
        SPELLED.format(CUR_COST, 10, "line_item_unblended_cost", 12),
    ),
    (FOCUS, "csv", FOCUS_COST, f"BilledCost ({TWICE.format(8, 13)})"),
    (FOCUS, "csv", "billedCost", SPELLED.format("BilledCost", 8, "billedCost", 13)),
    (FOCUS, "parquet", "EffectiveCost", f"EffectiveCost ({TWICE.format(9, 13)})"),
]


@pytest.mark.parametrize(("defaults", "kind", "extra", "said"), DUPLICATES)
def test_a_header_with_a_column_twice_is_refused_naming_it_and_where(
    tenant_a: Tenant,
    tmp_path: Path,
    defaults: dict[str, str],
    kind: str,
    extra: str,
    said: str,
) -> None:
    before = loaded_month(tmp_path)
    header = [*defaults, extra]
    rows = [[*defaults.values(), "99"]]
    path = tmp_path / f"twice.{kind}"
    if kind == "csv":
        path.write_text(",".join(header) + "\n" + ",".join(rows[0]) + "\n")
    else:
        _parquet(path, header, rows)

    job = ingest(path)

    assert job.status == IngestStatus.FAILED
    assert job.message.startswith(f"twice.{kind}, row 1: the header ")
    assert said in job.message
    assert stored() == before


# 3. Amounts out of range


OUT_OF_RANGE = ["1e30", "1e999999", "-1e999999", "1" * 40, "-100000000000000"]


@pytest.mark.parametrize("fmt", ["cur", "focus"])
def test_an_amount_out_of_range_rejects_its_row_and_the_rest_is_stored(
    tenant_a: Tenant, tmp_path: Path, fmt: str
) -> None:
    defaults, cost = (CUR_ROW, CUR_COST) if fmt == "cur" else (FOCUS, FOCUS_COST)
    edge = "99999999999999.99"  # just under 10^14: kept
    rows = [{cost: "1.5"}, {cost: edge}, *({cost: value} for value in OUT_OF_RANGE)]
    path = tmp_path / "huge.csv"
    path.write_text(bill_text(defaults, rows))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (2, Decimal("1.5") + Decimal(edge))
    message = f"{cost} is out of range: its size must be under 10^14"
    assert rejected(job) == [(4 + i, cost, value, message) for i, value in enumerate(OUT_OF_RANGE)]
    (sums,) = job.period_sums.all()
    assert sums.source_billed_cost == sums.stored_billed_cost == Decimal("1.5") + Decimal(edge)
    assert sums.reconciled


@pytest.mark.parametrize("value", ["1e-999999", "0E-9999999", "0." + "0" * 100 + "1"])
def test_an_amount_with_more_than_100_decimal_places_rejects_its_row(
    tenant_a: Tenant, tmp_path: Path, value: str
) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(bill_text(CUR_ROW, [{}, {CUR_COST: value}]))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (1, Decimal("1.5"))
    message = f"{CUR_COST} is out of range: at most 100 decimal places"
    assert rejected(job) == [(3, CUR_COST, value, message)]


def test_ingest_costs_prints_the_rejected_amounts(tenant_a: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(bill_text(CUR_ROW, [{}, {CUR_COST: "1e30"}, {CUR_COST: "1e999999"}]))
    out = io.StringIO()

    call_command(
        "ingest_costs", "--tenant", tenant_a.schema_name, "--inline", str(path), stdout=out
    )

    printed = out.getvalue()
    assert "Rows read 3, stored 1, rejected 2." in printed
    expected = f"huge.csv | {CUR_COST} | {CUR_COST} is out of range: its size must be under 10^14"
    assert f"2  {expected} | rejected" in printed


# 4. A row too long to read


@pytest.mark.parametrize("compressed", [False, True])
def test_a_40_mb_row_refuses_the_file_naming_the_row_and_the_limit(
    tenant_a: Tenant, tmp_path: Path, compressed: bool
) -> None:
    before = loaded_month(tmp_path)
    long = "x" * (40 << 20)
    text = bill_text(CUR_ROW, [{}, {}, {"lineItem/LineItemDescription": long}, {}])
    path = tmp_path / "long.csv"
    path.write_bytes(gzip.compress(text.encode(), 1) if compressed else text.encode())

    job = ingest(path)

    assert job.status == IngestStatus.FAILED
    assert job.message.startswith("long.csv, row 4: the row is longer than 2 MiB")
    assert stored() == before


def test_ingest_costs_names_the_long_row(tenant_a: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(bill_text(CUR_ROW, [{"lineItem/LineItemDescription": "y" * (5 << 20)}]))

    with pytest.raises(CommandError, match=r"long\.csv, row 2: the row is longer than 2 MiB"):
        call_command("ingest_costs", "--tenant", tenant_a.schema_name, "--inline", str(path))


# 5. Bytes that are not UTF-8


def _latin1(text: str) -> bytes:
    return text.encode().replace("café".encode(), "café".encode("latin-1"))


@pytest.mark.parametrize("compressed", [False, True])
def test_a_byte_that_is_not_utf8_refuses_the_file_naming_row_and_column(
    tenant_a: Tenant, tmp_path: Path, compressed: bool
) -> None:
    before = loaded_month(tmp_path)
    raw = _latin1(bill_text(CUR_ROW, [{}, {}, {"lineItem/ProductCode": "café"}]))
    path = tmp_path / "latin.csv"
    path.write_bytes(gzip.compress(raw) if compressed else raw)

    job = ingest(path)

    assert job.status == IngestStatus.FAILED
    assert job.message.startswith(
        "latin.csv, row 4, column lineItem/ProductCode: not UTF-8 text: the byte 0xE9"
    )
    assert stored() == before


def test_a_header_that_is_not_utf8_is_named_as_row_1(tenant_a: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(_latin1(bill_text({**CUR_ROW, "resourceTags/user:café": "x"}, [{}])))

    job = ingest(path)

    assert job.status == IngestStatus.FAILED
    assert job.message.startswith("header.csv, row 1, column resourceTags/user:caf\ufffd:")
    assert "the byte 0xE9" in job.message


def test_bytes_that_are_not_utf8_in_a_column_not_read_are_ignored(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "ignored.csv"
    path.write_bytes(_latin1(bill_text(CUR_ROW, [{}, {"lineItem/LineItemDescription": "café"}])))

    job = ingest(path)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert stored() == (2, Decimal("3"))


def test_a_parquet_value_that_is_not_utf8_refuses_the_file(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    header = list(CUR_ROW)
    columns = [pa.array([CUR_ROW[name]] * 3, pa.string()) for name in header]
    codes = [b"AmazonEC2", b"AmazonEC2", b"caf\xe9"]
    columns[header.index("lineItem/ProductCode")] = pa.array(codes, pa.binary())
    path = tmp_path / "bytes.parquet"
    pq.write_table(pa.Table.from_arrays(columns, names=header), path)

    job = ingest(path)

    assert job.status == IngestStatus.FAILED
    assert job.message.startswith(
        "bytes.parquet, row 4, column lineItem/ProductCode: not UTF-8 text: the byte 0xE9"
    )


def test_a_cur2_tag_that_is_not_utf8_refuses_the_file(tenant_a: Tenant, tmp_path: Path) -> None:
    names = [*CUR_ROW, "bill/PayerAccountName"]
    values = [*CUR_ROW.values(), "Payer"]
    columns = {
        snake(name): pa.array([value] * 3, pa.string())
        for name, value in zip(names, values, strict=True)
    }
    tag_values = pa.array([b"web", b"web", b"caf\xe9"], pa.binary())
    items = pa.Array.from_buffers(pa.string(), 3, tag_values.buffers())  # bytes kept as written
    tags = pa.MapArray.from_arrays(
        pa.array([0, 1, 2, 3], pa.int32()), pa.array(["team"] * 3), items
    )
    path = tmp_path / "cur2.parquet"
    pq.write_table(pa.table({**columns, "resource_tags": tags}), path)

    job = ingest(path)

    assert job.status == IngestStatus.FAILED
    assert job.message.startswith("cur2.parquet, row 4, column resource_tags: not UTF-8 text")
