"""AWS CUR (legacy CSV, legacy Parquet, CUR 2.0) rows as store rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from billing.ingest.contract import BillFormat, IssueKind, NormalizedBatch, Sums
from billing.ingest.readers import open_bill

PAYER = "111122223333"
KEY = ("2026-01-01", PAYER)
TYPE = "lineItem/LineItemType"
SP_ARN, SP_EFFECTIVE = "savingsPlan/SavingsPlanARN", "savingsPlan/SavingsPlanEffectiveCost"
SP_TOTAL, SP_USED = "savingsPlan/TotalCommitmentToDate", "savingsPlan/UsedCommitment"
RI_ARN, RI_EFFECTIVE = "reservation/ReservationARN", "reservation/EffectiveCost"
RI_UPFRONT = "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"
RI_RECURRING = "reservation/UnusedRecurringFee"
SP, RI = "arn:aws:savingsplans::1:savingsplan/abc", "arn:aws:ec2:us-east-1:1:reserved-instances/x"
DEFAULTS = {
    "bill/PayerAccountId": PAYER, "bill/BillingPeriodStartDate": "2026-01-01T00:00:00Z",
    "bill/BillingPeriodEndDate": "2026-02-01T00:00:00Z", "lineItem/UsageAccountId": "210000000001",
    TYPE: "Usage", "lineItem/UsageStartDate": "2026-01-05T00:00:00Z",
    "lineItem/UsageEndDate": "2026-01-05T01:00:00Z", "lineItem/ProductCode": "AmazonEC2",
    "lineItem/UsageType": "BoxUsage:m5.large", "lineItem/Operation": "RunInstances",
    "lineItem/UsageAmount": "1", "lineItem/CurrencyCode": "USD", "lineItem/UnblendedCost": "10",
    "product/ProductName": "Amazon Elastic Compute Cloud", "product/region": "us-east-1",
    "product/instanceType": "m5.large", "pricing/publicOnDemandCost": "12", "pricing/unit": "Hrs",
    **dict.fromkeys([SP_ARN, SP_EFFECTIVE, SP_TOTAL, SP_USED], ""),
    **dict.fromkeys([RI_ARN, RI_EFFECTIVE, RI_UPFRONT, RI_RECURRING], ""),
}  # fmt: skip


def legacy_csv(tmp_path: Path, rows: list[dict[str, str]], *, drop: tuple[str, ...] = ()) -> Path:
    names = [*DEFAULTS, *(name for row in rows for name in row)]
    header = [name for name in dict.fromkeys(names) if name not in drop]
    out = io.StringIO()
    lines = [[{**DEFAULTS, **row}.get(name, "") for name in header] for row in rows]
    csv.writer(out, lineterminator="\n").writerows([header, *lines])
    (tmp_path / "cur.csv").write_text(out.getvalue())
    return tmp_path / "cur.csv"


def read(path: Path, **options: Any) -> NormalizedBatch:
    (batch,) = open_bill(path, **options).batches()  # one batch, no more
    return batch


def column(batch: NormalizedBatch, name: str) -> list[Any]:
    return batch.table[name].to_pylist()


AMORTIZED = [  # line item type, its columns, EffectiveCost, ChargeCategory, ChargeFrequency
    ("Usage", {}, "10", "Usage", "Usage-Based"),
    ("DiscountedUsage", {RI_EFFECTIVE: "6.5", RI_ARN: RI}, "6.5", "Usage", "Usage-Based"),
    ("SavingsPlanCoveredUsage", {SP_EFFECTIVE: "7.25", SP_ARN: SP}, "7.25", "Usage", "Usage-Based"),
    ("SavingsPlanNegation", {SP_ARN: SP}, "0", "Usage", "Usage-Based"),
    ("SavingsPlanRecurringFee", {SP_TOTAL: "100.000000001", SP_USED: "90.5"}, "9.500000001",
     "Purchase", "Recurring"),
    ("SavingsPlanUpfrontFee", {SP_ARN: SP}, "0", "Purchase", "One-Time"),
    ("RIFee", {RI_UPFRONT: "1.2E-7", RI_RECURRING: "3"}, "3.00000012", "Purchase", "Recurring"),
    ("Fee", {RI_ARN: RI}, "0", "Purchase", "One-Time"),
    ("Fee", {}, "10", "Purchase", "One-Time"),
    ("Tax", {}, "10", "Tax", "Recurring"),
    ("Credit", {}, "10", "Credit", "One-Time"),
    ("Refund", {}, "10", "Credit", "One-Time"),
    ("EdpDiscount", {}, "10", "Usage", "Usage-Based"),
    ("PrivateRateDiscount", {}, "10", "Usage", "Usage-Based"),
    ("BundledDiscount", {}, "10", "Usage", "Usage-Based"),
    ("RiVolumeDiscount", {}, "10", "Usage", "Usage-Based"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "columns", "effective", "category", "frequency"), AMORTIZED)
def test_effective_cost_is_amortized_by_line_item_type(
    tmp_path: Path,
    kind: str,
    columns: dict[str, str],
    effective: str,
    category: str,
    frequency: str,
) -> None:
    batch = read(legacy_csv(tmp_path, [{TYPE: kind, **columns}]))

    row = batch.table.to_pylist()[0]
    assert batch.issues == []
    found = (row["effective_cost"], row["charge_category"], row["charge_frequency"])
    assert found == (effective, category, frequency)
    assert row["billed_cost"] == row["contracted_cost"] == "10"
    assert (row["charge_class"], row["x_line_item_type"]) == (None, kind)
    assert batch.source_sums[KEY].effective_cost == D(effective)


def test_commitments_and_list_costs(tmp_path: Path) -> None:
    rows = [
        {TYPE: "SavingsPlanNegation", SP_ARN: SP, "pricing/publicOnDemandCost": ""},
        {TYPE: "DiscountedUsage", RI_ARN: RI, RI_EFFECTIVE: "1"},
        {TYPE: "Tax", "pricing/publicOnDemandCost": ""},
        {TYPE: "EdpDiscount", "pricing/publicOnDemandCost": ""},
    ]
    batch = read(legacy_csv(tmp_path, rows))

    assert column(batch, "commitment_discount_id") == [SP, RI, None, None]
    assert column(batch, "commitment_discount_type") == ["Savings Plan", "Reservation", None, None]
    assert column(batch, "list_cost") == ["0", "12", "10", "0"]


def test_without_amortization_or_public_cost_columns_the_billed_cost_is_used(
    tmp_path: Path,
) -> None:
    drop = [name for name in DEFAULTS if name.startswith(("savingsPlan/", "reservation/"))]
    drop.append("pricing/publicOnDemandCost")
    path = legacy_csv(tmp_path, [{TYPE: "SavingsPlanNegation"}, {}], drop=tuple(drop))

    reader = open_bill(path)
    batch = next(reader.batches())

    assert reader.notes == [
        "no amortization columns: EffectiveCost = BilledCost",
        "no pricing/publicOnDemandCost column: ListCost = BilledCost",
        "ContractedCost = BilledCost (a CUR has no contracted cost)",
    ]
    assert column(batch, "effective_cost") == column(batch, "list_cost") == ["10", "10"]


def test_a_line_without_its_amortization_value_is_kept_at_its_billed_cost(
    tmp_path: Path,
) -> None:
    rows = [
        {TYPE: "SavingsPlanCoveredUsage"},
        {TYPE: "RIFee", RI_RECURRING: "1"},
        {TYPE: "DiscountedUsage", RI_EFFECTIVE: "x"},
    ]
    batch = read(legacy_csv(tmp_path, rows))

    needed = "is needed for the amortized cost of this line but missing: EffectiveCost = BilledCost"
    assert [(i.row, i.column, i.message, i.kind) for i in batch.issues] == [
        (2, SP_EFFECTIVE, f"{SP_EFFECTIVE} {needed}", IssueKind.INTERPRETED),
        (3, RI_UPFRONT, f"{RI_UPFRONT} {needed}", IssueKind.INTERPRETED),
        (
            4,
            RI_EFFECTIVE,
            f"{RI_EFFECTIVE} is not a number; read as null, the row is kept",
            IssueKind.INTERPRETED,
        ),
        (4, RI_EFFECTIVE, f"{RI_EFFECTIVE} {needed}", IssueKind.INTERPRETED),
    ]
    assert column(batch, "effective_cost") == ["10", "10", "10"]
    assert batch.rejected_sums == {}
    assert batch.source_sums == {KEY: Sums(3, D(30), D(30))}


def test_rows_are_rejected_with_a_reason_a_person_understands(tmp_path: Path) -> None:
    start, end = "lineItem/UsageStartDate", "lineItem/UsageEndDate"
    rows = [
        {TYPE: "Mystery"},
        {"bill/PayerAccountId": ""},
        {"bill/BillingPeriodStartDate": "2026-01-02T00:00:00Z"},
        {end: "2026-02-01T01:00:00Z"},
        {start: "2026-02-30T00:00:00Z"},
        {"lineItem/UnblendedCost": "ten"},
        {"lineItem/UsageAmount": "1,5"},
        {},
    ]
    batch = read(legacy_csv(tmp_path, rows))

    period = "2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z"
    assert [(i.row, i.value, i.message) for i in batch.issues] == [
        (2, "Mystery", f"{TYPE} is not a known line item type"),
        (3, "", "bill/PayerAccountId is required but missing"),
        (4, "2026-01-02T00:00:00Z", "bill/BillingPeriodStartDate is not 00:00 UTC on the first "
         "day of a month"),
        (5, "2026-02-01T01:00:00Z", f"{end} is after the billing period {period}"),
        (6, "2026-02-30T00:00:00Z", f"{start} is not a date and time"),
        (7, "ten", "lineItem/UnblendedCost is not a number"),
        (8, "1,5", "lineItem/UsageAmount is not a number; read as null, the row is kept"),
    ]  # fmt: skip
    kinds = [i.kind for i in batch.issues]
    assert kinds == [IssueKind.REJECTED] * 6 + [IssueKind.INTERPRETED]
    assert batch.table.num_rows == 2  # a quantity that cannot be read loses no money
    assert column(batch, "pricing_quantity") == [None, "1"]
    # Rows whose payer cannot be read are in no sum; a row whose billed cost cannot be
    # read counts as a row worth nothing.
    other = ("2026-01-02", PAYER)
    assert batch.source_sums == {KEY: Sums(6, D(50), D(50)), other: Sums(1, D(10), D(10))}
    assert batch.rejected_sums == {KEY: Sums(4, D(30), D(30)), other: Sums(1, D(10), D(10))}


def test_service_and_usage_details(tmp_path: Path) -> None:
    rows = [{}, {"product/ProductName": "", "lineItem/ProductCode": "AmazonS3"}]
    table = read(legacy_csv(tmp_path, rows)).table

    assert table.select(["service_name", "service_category"]).to_pylist() == [
        {"service_name": "Amazon Elastic Compute Cloud", "service_category": "Compute"},
        {"service_name": "AmazonS3", "service_category": "Storage"},
    ]
    assert table.slice(0, 1).select([
        "provider_name", "region_id", "x_usage_type", "x_operation", "x_instance_type",
        "consumed_quantity", "pricing_quantity", "pricing_unit",
    ]).to_pylist()[0] == {
        "provider_name": "AWS", "region_id": "us-east-1", "x_usage_type": "BoxUsage:m5.large",
        "x_operation": "RunInstances", "x_instance_type": "m5.large", "consumed_quantity": "1",
        "pricing_quantity": "1", "pricing_unit": "Hrs",
    }  # fmt: skip


def test_legacy_tag_columns_become_one_json_object(tmp_path: Path) -> None:
    team, other_team = "resourceTags/user:team", "resourceTags/user:Team"
    creator, env = "resourceTags/aws:createdBy", "resourceTags/user:env"
    first = {team: "data", other_team: "ignored", creator: 'Root:"x"\\y', env: "line\nbreak\x01"}
    rows = [first, {other_team: "web", env: ""}, {}]
    batch = read(legacy_csv(tmp_path, rows), tag_aliases={"Team": "team", "TEAM": "team"})

    tags = column(batch, "tags")
    expected = {"team": "data", "aws:createdBy": 'Root:"x"\\y', "env": "line\nbreak\x01"}
    assert json.loads(tags[0]) == expected
    assert tags[1:] == ['{"team":"web"}', None]
    clash = "tag key read as 'team', like resourceTags/user:team; where both have a value, "
    assert [(i.row, i.column, i.kind, i.message) for i in batch.issues] == [
        (1, other_team, IssueKind.INTERPRETED, clash + "the first non-empty one is kept")
    ]


def test_a_tag_clash_is_reported_once_per_file(tmp_path: Path) -> None:
    rows = [{"resourceTags/user:team": "a", "resourceTags/user:TEAM": "b"}] * 5
    reader = open_bill(legacy_csv(tmp_path, rows), chunk_rows=2, tag_aliases={"team": "team"})
    batches = list(reader.batches())

    assert sum(len(b.issues) for b in batches) == 1
    assert [t for b in batches for t in column(b, "tags")] == ['{"team":"a"}'] * 5


CUR2 = {
    "bill_billing_period_end_date": "2026-02-01T00:00:00.000Z",
    "bill_billing_period_start_date": "2026-01-01T00:00:00.000Z", "bill_payer_account_id": PAYER,
    "bill_payer_account_name": "Acme", "line_item_currency_code": "USD",
    "line_item_line_item_type": "Usage", "line_item_product_code": "AmazonEC2",
    "line_item_unblended_cost": "0.25", "line_item_usage_account_id": "210000000001",
    "line_item_usage_account_name": "prod", "line_item_usage_end_date": "2026-01-05T01:00:00.000Z",
    "line_item_usage_start_date": "2026-01-05T00:00:00.000Z",
    "product": '{"product_name": "Amazon \\"EC2\\"", "region": "us-east-1"}',
    "product_region_code": "us-east-1",
    "resource_tags": '{"user_team": "data", "user_Team": "web", "aws_created_by": "me", "x": ""}',
}  # fmt: skip


def test_cur2_csv_reads_names_and_json_map_columns(tmp_path: Path) -> None:
    out = io.StringIO()
    second = {**CUR2, "resource_tags": "{}", "product": "{}"}
    csv.writer(out).writerows([CUR2, CUR2.values(), second.values()])
    (tmp_path / "cur2.csv").write_text(out.getvalue())

    reader = open_bill(tmp_path / "cur2.csv", tag_aliases={"team": "team"})
    batch = next(reader.batches())

    assert (reader.format, reader.version) == (BillFormat.CUR_2, "2.0")
    row = batch.table.to_pylist()[0]
    assert (row["billing_account_name"], row["sub_account_name"]) == ("Acme", "prod")
    assert column(batch, "service_name") == ['Amazon "EC2"', "AmazonEC2"]
    assert row["charge_period_start"] == "2026-01-05T00:00:00Z"
    assert column(batch, "tags") == ['{"team":"data","aws_created_by":"me"}', None]
    assert [(i.row, i.column, i.value) for i in batch.issues] == [(2, "resource_tags", "user_Team")]


def test_cur2_parquet_reads_map_columns(tmp_path: Path) -> None:
    table = pa.table({k: [v, v] for k, v in CUR2.items() if k not in ("product", "resource_tags")})
    maps = pa.map_(pa.string(), pa.string())
    table = table.append_column("product", pa.array([[("product_name", "EC2")], None], maps))
    table = table.append_column("resource_tags", pa.array([[("user_team", 'a"b')], []], maps))
    pq.write_table(table, tmp_path / "cur2.parquet")

    batch = read(tmp_path / "cur2.parquet")

    assert column(batch, "service_name") == ["EC2", "AmazonEC2"]
    assert column(batch, "tags") == ['{"team":"a\\"b"}', None]


def test_legacy_parquet_floats_are_read_by_their_shortest_text(tmp_path: Path) -> None:
    names = ("bill_payer_account_id", "line_item_line_item_type", "line_item_currency_code")
    values = (PAYER, "Usage", "USD")
    table = pa.table({name: [value] * 3 for name, value in zip(names, values, strict=True)})
    times = {
        "bill_billing_period_start_date": datetime(2026, 1, 1),
        "bill_billing_period_end_date": datetime(2026, 2, 1),
        "line_item_usage_start_date": datetime(2026, 1, 5),
        "line_item_usage_end_date": datetime(2026, 1, 5),
    }  # naive: UTC, as Athena-style CUR Parquet has them
    for name, moment in times.items():
        table = table.append_column(name, pa.array([moment] * 3, pa.timestamp("ms")))
    table = table.append_column("line_item_unblended_cost", pa.array([0.1, 1.2e-07, 123456.789]))
    table = table.append_column("resource_tags_user_team", pa.array(["data", None, ""]))
    pq.write_table(table, tmp_path / "legacy.parquet")

    reader = open_bill(tmp_path / "legacy.parquet")
    batch = next(reader.batches())

    assert reader.format is BillFormat.CUR_LEGACY
    assert "Parquet timestamps without time zone are read as UTC" in reader.notes
    assert column(batch, "billed_cost") == ["0.1", "0.00000012", "123456.789"]
    assert column(batch, "charge_period_start") == ["2026-01-05T00:00:00Z"] * 3
    assert column(batch, "tags") == ['{"team":"data"}', None, None]
    assert batch.source_sums[KEY].billed_cost == D("123456.88900012")
