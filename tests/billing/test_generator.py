"""The bill generator: each format's shape, exact sums re-read from the files, the
amortization table, determinism and bounded memory. No database needed."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from billing.generator import GeneratedBill, write_cur2, write_cur_legacy, write_focus
from billing.generator.__main__ import main
from billing.generator.catalog import Kind, snake_case
from billing.generator.chunk import Chunk
from billing.ingest.contract import BillFormat

PERIOD = date(2026, 1, 1)
PAYER = "123456789012"
KEY = ("2026-01-01", PAYER)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ROWS = 3000  # enough for every line item type to show up
LINE_ITEM_TYPES = {
    "Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "DiscountedUsage",
    "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee", "RIFee", "Fee", "Credit", "Refund",
    "Tax", "EdpDiscount",
}  # fmt: skip


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows as dicts: CSV values as text ("" for empty), Parquet values as Python objects."""
    if path.name.endswith("parquet"):
        yield from pq.read_table(path).to_pylist()
        return
    opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def header(path: Path) -> list[str]:
    if path.name.endswith("parquet"):
        return pq.read_schema(path).names
    opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def dec(value: Any) -> Decimal:
    """A written amount as an exact Decimal: text as is, float64 through repr()."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def amortized(row: dict[str, Any], col: Callable[[str], str]) -> Decimal:
    """The amortization table of docs/BILLING-DATA.md, independently of the generator."""
    kind = row[col("lineItem/LineItemType")]
    if kind == "SavingsPlanCoveredUsage":
        return dec(row[col("savingsPlan/SavingsPlanEffectiveCost")])
    if kind == "SavingsPlanRecurringFee":
        total = dec(row[col("savingsPlan/TotalCommitmentToDate")])
        return total - dec(row[col("savingsPlan/UsedCommitment")])
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return Decimal(0)
    if kind == "DiscountedUsage":
        return dec(row[col("reservation/EffectiveCost")])
    if kind == "RIFee":
        upfront = dec(row[col("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod")])
        return upfront + dec(row[col("reservation/UnusedRecurringFee")])
    if kind == "Fee" and row[col("reservation/ReservationARN")]:
        return Decimal(0)
    return dec(row[col("lineItem/UnblendedCost")])


def legacy_name(parquet: bool) -> Callable[[str], str]:
    """Parquet and CUR 2.0 name a legacy column in snake case."""
    return snake_case if parquet else (lambda name: name)


def cur_sums(paths: tuple[Path, ...], col: Callable[[str], str]) -> tuple[int, Decimal, Decimal]:
    rows, billed, effective = 0, Decimal(0), Decimal(0)
    for path in paths:
        for row in read_rows(path):
            rows += 1
            billed += dec(row[col("lineItem/UnblendedCost")])
            effective += amortized(row, col)
    return rows, billed, effective


def assert_expected(bill: GeneratedBill, rows: int, billed: Decimal, effective: Decimal) -> None:
    assert list(bill.expected) == [KEY]
    sums = bill.expected[KEY]
    assert (sums.rows, sums.billed_cost, sums.effective_cost) == (rows, billed, effective)
    assert rows == bill.rows


@pytest.mark.parametrize("fmt", ["csv", "csv.gz"])
def test_legacy_cur_csv_has_aws_headers_and_its_sums_add_up(tmp_path: Path, fmt: str) -> None:
    bill = write_cur_legacy(
        tmp_path / f"cur.{fmt}", rows=ROWS, period=PERIOD, payer_id=PAYER, seed=1, fmt=fmt
    )

    names = header(bill.path)
    assert names[0] == "identity/LineItemId"
    for name in ("bill/PayerAccountId", "lineItem/UnblendedCost", "resourceTags/user:team",
                 "resourceTags/user:Team", "resourceTags/aws:createdBy",
                 "pricing/publicOnDemandCost", "reservation/ReservationARN",
                 "savingsPlan/UsedCommitment"):  # fmt: skip
        assert name in names
    rows = list(read_rows(bill.path))
    assert {r["lineItem/LineItemType"] for r in rows} == LINE_ITEM_TYPES
    assert {r["bill/PayerAccountId"] for r in rows} == {PAYER}
    assert {r["bill/BillingPeriodStartDate"] for r in rows} == {"2026-01-01T00:00:00Z"}
    assert {r["bill/BillingPeriodEndDate"] for r in rows} == {"2026-02-01T00:00:00Z"}
    for r in rows:
        assert TIMESTAMP.match(r["lineItem/UsageStartDate"])
        assert "2026-01-01T00:00:00Z" <= r["lineItem/UsageStartDate"] < "2026-02-01T00:00:00Z"
        assert r["lineItem/UsageStartDate"] < r["lineItem/UsageEndDate"] <= "2026-02-01T00:00:00Z"
    assert any("E-" in r["lineItem/UnblendedCost"] for r in rows)  # as AWS writes tiny values
    assert any(r["resourceTags/user:Team"] for r in rows)
    assert any(r["lineItem/UsageAccountId"].startswith("0") for r in rows)
    assert_expected(bill, *cur_sums(bill.paths, legacy_name(False)))


def test_legacy_cur_parquet_has_snake_case_doubles_and_exact_sums(tmp_path: Path) -> None:
    bill = write_cur_legacy(
        tmp_path / "cur.parquet", rows=ROWS, period=PERIOD, payer_id=PAYER, seed=2, fmt="parquet"
    )

    schema = pq.read_schema(bill.path)
    assert schema.field("line_item_unblended_cost").type == pa.float64()
    assert schema.field("bill_payer_account_id").type == pa.string()
    assert pa.types.is_timestamp(schema.field("line_item_usage_start_date").type)
    assert "reservation_reservation_a_r_n" in schema.names
    assert "resource_tags_user_team" in schema.names
    assert len(set(schema.names)) == len(schema.names)
    assert_expected(bill, *cur_sums(bill.paths, legacy_name(True)))


def test_legacy_cur_in_parts_has_a_manifest(tmp_path: Path) -> None:
    bill = write_cur_legacy(
        tmp_path / "acme-cur.csv.gz", rows=1001, period=PERIOD, payer_id=PAYER, parts=3
    )

    assert [p.name for p in bill.paths] == [f"acme-cur-0000{i}.csv.gz" for i in (1, 2, 3)]
    assert bill.manifest is not None and bill.path == bill.manifest
    manifest = json.loads(bill.manifest.read_text())
    assert [key.rsplit("/", 1)[1] for key in manifest["reportKeys"]] == [p.name for p in bill.paths]
    assert manifest["billingPeriod"]["start"] == "20260101T000000.000Z"
    assert {"category": "lineItem", "name": "UnblendedCost", "type": "OptionalBigDecimal"} in (
        manifest["columns"]
    )
    assert [sum(1 for _ in read_rows(p)) for p in bill.paths] == [334, 334, 333]
    assert_expected(bill, *cur_sums(bill.paths, legacy_name(False)))


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet"])
def test_cur2_has_the_data_exports_schema_and_its_sums_add_up(tmp_path: Path, fmt: str) -> None:
    bill = write_cur2(
        tmp_path / f"cur2.{fmt}", rows=ROWS, period=PERIOD, payer_id=PAYER, seed=3, fmt=fmt
    )

    names = header(bill.path)
    for name in ("bill_payer_account_id", "bill_payer_account_name", "line_item_usage_account_name",
                 "bill_billing_period_start_date", "line_item_line_item_type", "product",
                 "reservation_reservation_a_r_n", "savings_plan_savings_plan_effective_cost",
                 "resource_tags", "cost_category", "discount"):  # fmt: skip
        assert name in names
    assert names == sorted(names)
    rows = list(read_rows(bill.path))
    tags = [r["resource_tags"] for r in rows]
    if fmt == "parquet":
        assert pa.types.is_map(pq.read_schema(bill.path).field("resource_tags").type)
        tags = [dict(t) for t in tags]
    else:
        tags = [json.loads(t) for t in tags]
    keys = {key for t in tags for key in t}
    assert keys == {"user_team", "user_env", "user_cost_center", "aws_created_by"}
    assert_expected(bill, *cur_sums(bill.paths, snake_case))


FOCUS_MANDATORY = (
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingAccountId",
    "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "InvoiceIssuerName", "ProviderName", "PublisherName",
    "PricingQuantity", "PricingUnit", "ServiceCategory", "ServiceName",
)  # fmt: skip
SERVICE_CATEGORIES = {
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
    "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
    "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
    "Storage", "Web", "Other",
}  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_focus_follows_the_spec_rules_and_its_sums_add_up(tmp_path: Path, fmt: str) -> None:
    bill = write_focus(
        tmp_path / f"focus.{fmt}", rows=ROWS, period=PERIOD, payer_id=PAYER, seed=4, fmt=fmt
    )

    names = header(bill.path)
    assert set(FOCUS_MANDATORY) <= set(names)
    assert {"x_UsageType", "x_Operation", "x_ServiceCode", "Tags"} <= set(names)
    rows = list(read_rows(bill.path))
    assert {r["ChargeCategory"] for r in rows} == {
        "Usage",
        "Purchase",
        "Tax",
        "Credit",
        "Adjustment",
    }
    assert {r["ServiceCategory"] for r in rows} <= SERVICE_CATEGORIES
    assert {r["BillingAccountId"] for r in rows} == {PAYER}
    for r in rows:
        if r["ChargeCategory"] == "Tax":
            assert r["PricingQuantity"] in (None, "")
        if fmt == "csv":
            assert TIMESTAMP.match(r["ChargePeriodStart"]) and TIMESTAMP.match(
                r["BillingPeriodEnd"]
            )
            assert isinstance(json.loads(r["Tags"]), dict)
    covered = [r for r in rows if r["CommitmentDiscountStatus"] == "Used"]
    assert covered and all(dec(r["BilledCost"]) == 0 for r in covered)
    billed = sum((dec(r["BilledCost"]) for r in rows), Decimal(0))
    effective = sum((dec(r["EffectiveCost"]) for r in rows), Decimal(0))
    assert bill.bill_format == BillFormat.FOCUS
    assert_expected(bill, len(rows), billed, effective)


def test_amortization_matches_a_hand_checked_case() -> None:
    # (kind, unblended, sp effective, sp total, sp used, ri effective, unused upfront,
    #  unused recurring, reservation) in cents -> amortized cents, worked out by hand
    cases = [
        (Kind.USAGE, 100, 0, 0, 0, 0, 0, 0, -1, 100),
        (Kind.SP_COVERED, 100, 72, 0, 0, 0, 0, 0, -1, 72),
        (Kind.SP_NEGATION, -100, 0, 0, 0, 0, 0, 0, -1, 0),
        (Kind.SP_RECURRING_FEE, 450, 0, 450, 400, 0, 0, 0, -1, 50),
        (Kind.SP_UPFRONT_FEE, 525600, 0, 0, 0, 0, 0, 0, -1, 0),
        (Kind.DISCOUNTED, 0, 0, 0, 0, 6, 0, 0, 0, 6),
        (Kind.RI_FEE, 2678, 0, 0, 0, 0, 10, 20, 0, 30),
        (Kind.FEE, 31536, 0, 0, 0, 0, 0, 0, 0, 0),  # an RI's upfront fee
        (Kind.FEE, 10000, 0, 0, 0, 0, 0, 0, -1, 10000),  # support
        (Kind.TAX, 800, 0, 0, 0, 0, 0, 0, -1, 800),
        (Kind.CREDIT, -1250, 0, 0, 0, 0, 0, 0, -1, -1250),
    ]
    columns = list(zip(*cases, strict=True))
    as_array = [np.array(c, dtype=np.int64) for c in columns]
    zeros = np.zeros(len(cases), dtype=np.int64)
    chunk = Chunk(
        kind=as_array[0], account=zeros, combo=zeros, resource=zeros, start=zeros, end=zeros,
        qty=zeros, rate=zeros, unblended=as_array[1], public=zeros, sp=zeros,
        sp_effective=as_array[2], sp_total=as_array[3], sp_used=as_array[4], ri=as_array[8],
        ri_effective=as_array[5], ri_unused_upfront=as_array[6], ri_unused_recurring=as_array[7],
    )  # fmt: skip

    assert chunk.effective().tolist() == list(columns[9])


def test_each_negation_cancels_its_covered_usage(tmp_path: Path) -> None:
    bill = write_cur_legacy(
        tmp_path / "cur.csv", rows=2000, period=PERIOD, payer_id=PAYER, fmt="csv"
    )

    rows = list(read_rows(bill.path))
    pairs = [
        (before, row)
        for before, row in itertools.pairwise(rows)
        if row["lineItem/LineItemType"] == "SavingsPlanNegation"
    ]
    assert pairs
    for covered, negation in pairs:
        assert covered["lineItem/LineItemType"] == "SavingsPlanCoveredUsage"
        assert dec(negation["lineItem/UnblendedCost"]) == -dec(covered["lineItem/UnblendedCost"])
        assert negation["savingsPlan/SavingsPlanARN"] == covered["savingsPlan/SavingsPlanARN"]
        assert amortized(negation, legacy_name(False)) == 0


@pytest.mark.parametrize(
    ("writer", "fmt"),
    [(write_cur_legacy, "csv.gz"), (write_cur_legacy, "parquet"), (write_cur2, "parquet"),
     (write_cur2, "csv"), (write_focus, "csv"), (write_focus, "parquet")],
)  # fmt: skip
def test_the_same_seed_gives_the_same_bytes(
    tmp_path: Path, writer: Callable[..., GeneratedBill], fmt: str
) -> None:
    def write(name: str, seed: int) -> bytes:
        bill = writer(tmp_path / name, rows=700, period=PERIOD, payer_id=PAYER, seed=seed, fmt=fmt)
        return bill.path.read_bytes()

    assert write(f"a.{fmt}", 5) == write(f"b.{fmt}", 5)
    assert write(f"c.{fmt}", 5) != write(f"d.{fmt}", 6)


@pytest.mark.parametrize("rows", [0, 1, 5, 60])
def test_exactly_the_rows_asked_for_are_written(tmp_path: Path, rows: int) -> None:
    bill = write_cur_legacy(
        tmp_path / "cur.csv", rows=rows, period=PERIOD, payer_id=PAYER, fmt="csv"
    )

    assert header(bill.path)[0] == "identity/LineItemId"
    assert_expected(bill, *cur_sums(bill.paths, legacy_name(False)))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="first day"):
        write_cur2(tmp_path / "x.csv", rows=10, period=date(2026, 1, 2), payer_id=PAYER, fmt="csv")
    with pytest.raises(ValueError, match="12 digits"):
        write_focus(tmp_path / "x.csv", rows=10, period=PERIOD, payer_id="12345")
    with pytest.raises(ValueError, match="format"):
        write_cur_legacy(tmp_path / "x.json", rows=10, period=PERIOD, payer_id=PAYER, fmt="json")
    with pytest.raises(ValueError, match="until"):
        write_focus(tmp_path / "x.csv", rows=10, period=PERIOD, payer_id=PAYER, until=PERIOD)


def test_cli_prints_what_it_wrote_and_the_expected_sums(tmp_path: Path) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["cur", "--rows", "500", "--period", "2026-01", "--payer", PAYER,
                     "--format", "csv.gz", "--out", str(tmp_path / "c.csv.gz"), "--seed", "9",
                     "--json"])  # fmt: skip

    assert code == 0
    printed = json.loads(out.getvalue())
    bill = write_cur_legacy(tmp_path / "d.csv.gz", rows=500, period=PERIOD, payer_id=PAYER, seed=9)
    [sums] = printed["expected"]
    assert (sums["billing_period_start"], sums["payer"]) == KEY
    assert Decimal(sums["billed_cost"]) == bill.expected[KEY].billed_cost
    assert Decimal(sums["effective_cost"]) == bill.expected[KEY].effective_cost
    assert (tmp_path / "c.csv.gz").read_bytes() == bill.path.read_bytes()


# The peak RSS of the probe's own memory (VmHWM): getrusage's ru_maxrss would also count
# the test process it was spawned from, since Linux keeps it across exec.
MEMORY_PROBE = """
import sys
from datetime import date
from pathlib import Path
import pyarrow as pa
from billing.generator import write_cur_legacy
write_cur_legacy(sys.argv[1], rows=300_000, period=date(2026, 1, 1), payer_id="123456789012",
                 fmt="csv.gz")
status = Path("/proc/self/status").read_text().splitlines()
peak_kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(pa.default_memory_pool().max_memory(), peak_kib)
"""


def test_memory_stays_bounded_for_300000_rows(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path / "big.csv.gz")],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip

    arrow_peak, max_rss_kib = map(int, done.stdout.split())
    # All 300,000 rows as Arrow tables would take about 240 MB; a chunk takes about 40.
    assert arrow_peak < 120 * 2**20
    assert max_rss_kib * 1024 < 700 * 2**20
