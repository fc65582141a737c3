"""The FinOps Foundation's FOCUS 1.0 sample: real, messy, and every oddity reported."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from billing.ingest.contract import BillFormat, IssueKind, NormalizedBatch, RowIssue
from billing.ingest.readers import open_bill
from tests.conftest import shared_data

SAMPLE = shared_data("focus-sample", "focus_sample.csv")
INTERPRETED, REJECTED = IssueKind.INTERPRETED, IssueKind.REJECTED
NULL = "the literal NULL is read as null"
EMPTY = "an empty value is read as null"
NO_ZONE = "a timestamp without time zone is read as UTC"
ZERO_EFFECTIVE = "EffectiveCost is 0 on a Usage row whose BilledCost is not; kept"
NO_CONTRACTED = (
    "ContractedCost is missing: read as BilledCost, as for a charge without a negotiated price"
)

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="the FOCUS sample is not here")


@pytest.fixture(scope="module")
def batch() -> NormalizedBatch:
    batches = list(open_bill(SAMPLE).batches())
    assert len(batches) == 1
    return batches[0]


def kind_of(issue: RowIssue) -> str:
    """The message without the values it quotes."""
    return "before the billing period" if "billing period" in issue.message else issue.message


def test_the_sample_is_focus_1_0_with_one_column_that_is_not_focus() -> None:
    reader = open_bill(SAMPLE)

    assert reader.format is BillFormat.FOCUS
    assert reader.version == "1.0"
    assert reader.notes == ["not FOCUS columns, ignored: Id"]
    assert reader.rows_total == 1000  # an estimate for CSV, exact here


def test_every_interpreted_or_rejected_value_is_reported(batch: NormalizedBatch) -> None:
    found = Counter((i.kind, i.column, kind_of(i)) for i in batch.issues)

    assert found == {
        (INTERPRETED, "AvailabilityZone", NULL): 893,
        (INTERPRETED, "BillingAccountName", EMPTY): 7,
        (INTERPRETED, "BillingPeriodStart", NO_ZONE): 1000,
        (INTERPRETED, "BillingPeriodEnd", NO_ZONE): 1000,
        (INTERPRETED, "ChargePeriodStart", NO_ZONE): 1000,
        (INTERPRETED, "ChargePeriodEnd", NO_ZONE): 1000,
        (INTERPRETED, "ChargeClass", NULL): 1000,
        (INTERPRETED, "ChargeFrequency", "ChargeFrequency is read as 'Usage-Based'"): 7,
        (INTERPRETED, "CommitmentDiscountId", NULL): 989,
        (INTERPRETED, "CommitmentDiscountId", EMPTY): 7,
        (INTERPRETED, "CommitmentDiscountType", NULL): 989,
        (INTERPRETED, "CommitmentDiscountType", EMPTY): 7,
        (INTERPRETED, "ConsumedQuantity", NULL): 1,
        (INTERPRETED, "ConsumedUnit", NULL): 1,
        (INTERPRETED, "ContractedCost", NULL): 7,
        (INTERPRETED, "ContractedCost", NO_CONTRACTED): 7,
        (INTERPRETED, "EffectiveCost", ZERO_EFFECTIVE): 608,
        (INTERPRETED, "RegionId", NULL): 7,
        (INTERPRETED, "ResourceId", NULL): 75,
        (INTERPRETED, "Tags", NULL): 289,
        (REJECTED, "ChargePeriodStart", "before the billing period"): 1,
    }


def test_rows_are_stored_unless_rejected(batch: NormalizedBatch) -> None:
    rejected = sorted({i.row for i in batch.issues if i.kind is REJECTED})

    assert batch.rows_read == 1000
    assert batch.table.num_rows == 999
    assert rejected == [946]  # charged before its billing period


def test_oracle_rows_without_a_contracted_cost_are_kept_at_their_billed_cost(
    batch: NormalizedBatch,
) -> None:
    # The seven Oracle rows have ContractedCost NULL and no ContractedUnitPrice: FOCUS then
    # takes BilledCost, so only a row that cannot be placed in its billing period is lost.
    oracle = batch.table.filter(pa.compute.equal(batch.table["billing_account_id"], "20209880"))

    assert oracle.select(["billed_cost", "list_cost", "contracted_cost"]).to_pylist() == [
        {"billed_cost": billed, "list_cost": listed, "contracted_cost": billed}
        for billed, listed in [
            ("0.01200000000", "0.01200000000"),
            ("0.00000000000", "0.00000000000"),
            ("0.01200000000", "0.01200000000"),
            ("0.19200000000", "0.00000000000"),
            ("0.08000000000", "0.00000000000"),
            ("0.00107392473", "0.00107392473"),
        ]
    ]


def test_an_oracle_row_charged_before_its_billing_period_is_rejected(
    batch: NormalizedBatch,
) -> None:
    row = [i for i in batch.issues if i.row == 946 and i.kind is REJECTED]

    assert [(i.column, i.value, i.message) for i in row] == [
        (
            "ChargePeriodStart",
            "2024-09-30 22:00:00",
            "ChargePeriodStart is before the billing period "
            "2024-10-01T00:00:00Z to 2024-11-01T00:00:00Z",
        ),
    ]


def test_a_wrongly_cased_charge_frequency_is_read_as_the_focus_value(
    batch: NormalizedBatch,
) -> None:
    issue = next(i for i in batch.issues if i.row == 927 and i.column == "ChargeFrequency")

    assert (issue.value, issue.kind) == ("Usage-based", INTERPRETED)
    assert issue.message == "ChargeFrequency is read as 'Usage-Based'"
    assert str(issue) == (
        "focus_sample.csv, row 927, column ChargeFrequency: "
        "ChargeFrequency is read as 'Usage-Based'"
    )


def test_a_zero_effective_cost_on_usage_is_a_remark_and_kept(batch: NormalizedBatch) -> None:
    issue = next(i for i in batch.issues if i.row == 2 and i.column == "EffectiveCost")

    assert issue.kind is INTERPRETED
    assert issue.value == "0.00000000000"
    assert issue.message == ZERO_EFFECTIVE
    assert batch.table["effective_cost"][0].as_py() == "0.00000000000"


def test_the_first_row_as_stored(batch: NormalizedBatch) -> None:
    first = {k: v for k, v in batch.table.slice(0, 1).to_pylist()[0].items() if v is not None}

    assert len(first) == 25
    periods = [f"{what}_period_{end}" for what in ("billing", "charge") for end in ("start", "end")]
    assert [first[name] for name in periods] == [
        "2024-09-01", "2024-10-01", "2024-09-18T22:00:00Z", "2024-09-18T23:00:00Z"
    ]  # fmt: skip
    assert [first[f"{kind}_cost"] for kind in ("billed", "effective", "list", "contracted")] == [
        "0.00000080000", "0.00000000000", "0.00000080000", "0.00000000000"
    ]  # fmt: skip
    assert (first["service_name"], first["service_category"], first["charge_frequency"]) == (
        "Amazon Simple Queue Service", "Integration", "Usage-Based"
    )  # fmt: skip
    quantities = (first["consumed_quantity"], first["pricing_quantity"])
    assert quantities == ("2.000000000000000", "2.00000000000")


def test_tags_are_compact_json_and_null_when_absent(batch: NormalizedBatch) -> None:
    tags = batch.table["tags"].to_pylist()

    assert tags[0] is None
    assert tags[1] == (
        '{"application":"BrightLensMatrix","environment":"dev","business_unit":"ViennaAI"}'
    )
    assert sum(tag is None for tag in tags) == 289  # the rejected rows all have tags


def test_sums_cover_stored_and_rejected_rows_per_payer(batch: NormalizedBatch) -> None:
    aws, azure = "1234567890123", "/providers/Microsoft.Billing/billingAccounts/8611537"
    oracle = "20209880"

    assert {
        key: (s.rows, s.billed_cost, s.effective_cost) for key, s in batch.source_sums.items()
    } == {
        ("2024-09-01", aws): (942, Decimal("18.0066386184"), Decimal("13")),
        ("2024-09-01", azure): (51, Decimal("1.97651418586"), Decimal("1.97651418586")),
        ("2024-09-01", oracle): (6, Decimal("0.29707392473"), Decimal("0")),
        ("2024-10-01", oracle): (1, Decimal("0.24"), Decimal("0")),
    }
    assert {key: s.rows for key, s in batch.rejected_sums.items()} == {
        ("2024-10-01", oracle): 1,
    }


def test_small_chunks_report_the_same_rows(batch: NormalizedBatch) -> None:
    batches = list(open_bill(SAMPLE, chunk_rows=128).batches())

    assert [b.rows_read for b in batches] == [128] * 7 + [104]
    assert [i for b in batches for i in b.issues] == batch.issues
    assert pa.concat_tables(b.table for b in batches).equals(batch.table)


def test_the_sample_as_parquet_reads_the_same(tmp_path: Path, batch: NormalizedBatch) -> None:
    header = SAMPLE.open().readline().strip().replace('"', "").split(",")
    table = pacsv.read_csv(
        SAMPLE,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
        ),
    )
    path = tmp_path / "focus_sample.parquet"
    pq.write_table(table, path)

    from_parquet = next(open_bill(path, display_name="focus_sample.csv").batches())

    assert from_parquet.issues == batch.issues
    assert from_parquet.table.equals(batch.table)


# Small FOCUS files, for what the sample does not show.
FOCUS = {
    "BillingAccountId": "acct-1", "BillingCurrency": "USD", "ChargeCategory": "Usage",
    "BillingPeriodStart": "2026-01-01T00:00:00Z", "BillingPeriodEnd": "2026-02-01T00:00:00Z",
    "ChargePeriodStart": "2026-01-03T00:00:00Z", "ChargePeriodEnd": "2026-01-04T00:00:00Z",
    "BilledCost": "2", "EffectiveCost": "1.5", "ListCost": "3", "ContractedCost": "2",
    "ChargeFrequency": "Usage-Based", "ServiceCategory": "Compute", "ProviderName": "Microsoft",
    "Tags": "{}",
}  # fmt: skip


def focus_file(tmp_path: Path, rows: list[dict[str, str]], **extra_columns: str) -> Path:
    header = [*FOCUS, *extra_columns]
    lines = [[{**FOCUS, **extra_columns, **row}[name] for name in header] for row in rows]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *lines])
    path = tmp_path / "focus.csv"
    path.write_text(out.getvalue())
    return path


def issues_of(path: Path) -> list[tuple[int, str, str, str]]:
    batch = next(open_bill(path).batches())
    return [(i.row, i.column, i.kind.value, i.message) for i in batch.issues]


@pytest.mark.parametrize(
    ("extra", "version"),
    [
        ({}, "1.0"),
        ({"SkuMeter": "x"}, "1.1"),
        ({"InvoiceId": "x"}, "1.2"),
        ({"ContractApplied": "x"}, "1.3"),
    ],
)
def test_the_focus_version_is_told_by_its_columns(
    tmp_path: Path, extra: dict[str, str], version: str
) -> None:
    reader = open_bill(focus_file(tmp_path, [{}], **extra))

    assert (reader.format, reader.version, reader.notes) == (BillFormat.FOCUS, version, [])


def test_values_are_checked_against_the_spec(tmp_path: Path) -> None:
    rows = [
        {"ServiceCategory": "compute", "BillingCurrency": "usd"},
        {"ServiceCategory": "Quantum"},
        {"ChargeCategory": "Bonus"},
        {"ChargeFrequency": "Sometimes"},
        {"BillingCurrency": "dollars"},
    ]
    assert issues_of(focus_file(tmp_path, rows)) == [
        (2, "ServiceCategory", "interpreted", "ServiceCategory is read as 'Compute'"),
        (2, "BillingCurrency", "interpreted", "BillingCurrency is read as 'USD'"),
        (
            3,
            "ServiceCategory",
            "interpreted",
            "ServiceCategory is not one of the FOCUS values; kept",
        ),
        (4, "ChargeCategory", "rejected", "ChargeCategory is not one of the FOCUS values"),
        (
            5,
            "ChargeFrequency",
            "interpreted",
            "ChargeFrequency is not one of the FOCUS values; kept",
        ),
        (6, "BillingCurrency", "rejected", "BillingCurrency is not an ISO 4217 currency code"),
    ]


def test_tags_keep_their_scalars_and_lose_the_user_prefix(tmp_path: Path) -> None:
    rows = [
        {"Tags": '{"user:team": "data", "aws:createdBy": "me", "flag": true, "n": 1.50}'},
        {"Tags": '{"user:team": "", "team": "web"}'},
        {"Tags": "[1, 2]"},
        {"Tags": '{"a": null}'},
    ]
    path = focus_file(tmp_path, rows)

    assert next(open_bill(path).batches()).table["tags"].to_pylist() == [
        '{"team":"data","aws:createdBy":"me","flag":true,"n":1.50}',
        '{"team":"web"}',
        None,
        None,
    ]
    clash = "tag key read as 'team', like tag 'user:team'; where both have a value, the first"
    assert issues_of(path) == [
        (3, "Tags", "interpreted", f"{clash} non-empty one is kept"),
        (4, "Tags", "interpreted", "Tags is not a JSON object: the tags are dropped"),
    ]


def test_focus_1_3_service_provider_name_comes_first(tmp_path: Path) -> None:
    path = focus_file(tmp_path, [{"ProviderName": ""}, {}], ServiceProviderName="Oracle")

    batch = next(open_bill(path).batches())

    assert batch.table["provider_name"].to_pylist() == ["Oracle", "Oracle"]
