"""The cost rollup: grouped while reading (or in SQL), exact, replaced with its month."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.ingest import pipeline, summaries
from billing.ingest.contract import BillFileError
from billing.ingest.summaries import ROLLUP_COLUMNS, RollupGrouper
from billing.models import CostRollup, IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from portal.tenants.models import Tenant
from tests.billing.ingest_fakes import PAYER, PERIOD, FakeFiles, batch, line

OTHER_PAYER = "444455556666"
FEBRUARY = "2026-02-01"
KEYS = (
    "billing_period_start",
    "billing_account_id",
    "day",
    "sub_account_id",
    "sub_account_name",
    "service_name",
    "region_id",
    "charge_category",
    "x_usage_type",
    "pricing_unit",
    "tag_set_id",
)
SUMS = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "pricing_quantity",
    "row_count",
)
# The line items grouped as the rollup groups them.
LINE_ITEMS_GROUPED = f"""
    SELECT billing_period_start, billing_account_id,
           (charge_period_start AT TIME ZONE 'UTC')::date AS day, sub_account_id,
           sub_account_name, service_name, region_id, charge_category, x_usage_type,
           pricing_unit, tag_set_id, {", ".join(f"sum({c})" for c in SUMS[:-1])}, count(*)
    FROM billing_cost_line_item
    GROUP BY {", ".join(map(str, range(1, len(KEYS) + 1)))}
"""
ORDINAL = itertools.count()


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFiles:
    fake = FakeFiles(tmp_path)
    monkeypatch.setattr(pipeline, "open_bill", fake.open_bill)
    return fake


def ingest(files: FakeFiles, *items: Any) -> IngestJob:
    path = files.add(f"bill-{next(ORDINAL)}.csv", *items)
    job = pipeline.run_ingest(ingest_job_create(actor=None, paths=[path], enqueue=False).pk)
    assert job.status == IngestStatus.SUCCEEDED, job.message
    return job


def rollup_rows() -> Counter[tuple[Any, ...]]:
    return Counter(CostRollup.objects.values_list(*KEYS, *SUMS))


def grouped_line_items() -> Counter[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(LINE_ITEMS_GROUPED)
        return Counter(cursor.fetchall())


def totals(key: tuple[str, str]) -> dict[str, Any]:
    """The period and payer's rollup sums (a missing pricing quantity counts zero)."""
    rows = CostRollup.objects.filter(billing_period_start=key[0], billing_account_id=key[1])
    return {
        column: sum((value or 0 for value in rows.values_list(column, flat=True)), Decimal(0))
        for column in SUMS
    }


# Grouping while reading (no database) ------------------------------------------------


def merged(*tables: Any, tag_set_ids: dict[str, int] | None = None) -> list[dict[str, Any]]:
    grouper = RollupGrouper()
    groups = [grouper.group(table) for table in tables]
    parts = [part.table for found in groups if found for part in found.values()]
    rows = grouper.merge(parts, tag_set_ids or {}).to_pylist()
    return sorted(rows, key=lambda row: [str(row[c]) for c in ROLLUP_COLUMNS])


def test_groups_are_summed_exactly_without_trailing_zeros() -> None:
    rows = merged(
        batch(
            [
                line(billed_cost="0.0000001", pricing_quantity="2.50", pricing_unit="Hrs"),
                line(billed_cost="1.10", pricing_quantity=None, pricing_unit="Hrs"),
                line(billed_cost="-3", pricing_quantity=None, pricing_unit="GB"),
            ]
        ).table,
        batch([line(billed_cost="0.9", pricing_quantity="0.5", pricing_unit="Hrs")]).table,
    )

    assert [(r["pricing_unit"], r["billed_cost"], r["pricing_quantity"]) for r in rows] == [
        ("GB", "-3", None),  # no quantity at all stays none
        ("Hrs", "2.0000001", "3"),
    ]
    assert [(r["day"], r["row_count"], r["list_cost"]) for r in rows] == [
        ("2026-01-05", "1", "1.5"),
        ("2026-01-05", "3", "4.5"),
    ]


def test_two_spellings_of_one_tag_set_are_one_row() -> None:
    spellings = ['{"team": "web", "env": "prod"}', '{"env": "prod", "team": "web"}']
    rows = merged(
        batch([line(tags=text) for text in [*spellings, None]]).table,
        tag_set_ids=dict.fromkeys(spellings, 7),
    )

    assert [(r["tag_set_id"], r["row_count"]) for r in rows] == [("7", "2"), (None, "1")]


def test_a_batch_is_grouped_per_period_and_payer() -> None:
    table = batch(
        [line(), line(billing_account_id=OTHER_PAYER), line(billing_period_start=FEBRUARY)]
    ).table

    groups = RollupGrouper().group(table)

    assert groups is not None
    assert {key: part.table.num_rows for key, part in groups.items()} == {
        (PERIOD, PAYER): 1,
        (PERIOD, OTHER_PAYER): 1,
        (FEBRUARY, PAYER): 1,
    }


def test_values_the_fast_path_cannot_hold_are_left_to_sql() -> None:
    grouper = RollupGrouper()

    assert grouper.group(batch([line(pricing_quantity="0.0000000000000000000123")]).table) is None
    assert grouper.group(batch([line(billed_cost="1" + "0" * 20)]).table) is None
    huge = grouper.group(batch([line(billed_cost="9" * 19)] * 20).table)
    assert huge is not None and huge[(PERIOD, PAYER)].magnitude >= summaries.MAGNITUDE_LIMIT


def test_groups_are_merged_once_they_grow(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [line(sub_account_id=f"2100000000{i % 7:02d}", billed_cost="0.5") for i in range(70)]
    grouper = RollupGrouper()
    found = grouper.group(batch(rows).table)
    assert found is not None
    groups = found[(PERIOD, PAYER)].table
    assert groups.num_rows == 7
    kept = [groups] * 3
    assert summaries.compact(kept) is kept  # few rows: left as they are

    monkeypatch.setattr(summaries, "COMPACT_AT_ROWS", 10)
    compacted = summaries.compact(kept)

    assert len(compacted) == 1 and compacted[0].num_rows == 7
    rollup = grouper.merge(compacted, {}).to_pylist()
    assert {(row["billed_cost"], row["row_count"]) for row in rollup} == {("15", "30")}


# Stored with the line items ----------------------------------------------------------

amounts = st.decimals(
    min_value=Decimal("-1000"), max_value=Decimal("1000"), places=6, allow_nan=False
).map(str)


@st.composite
def line_items(draw: Any) -> dict[str, Any]:
    return line(
        billing_period_start=draw(st.sampled_from([PERIOD, FEBRUARY])),
        billing_account_id=draw(st.sampled_from([PAYER, OTHER_PAYER])),
        charge_period_start=draw(st.sampled_from(["2026-01-05T00:00:00Z", "2026-01-06T23:00:00Z"])),
        sub_account_id=draw(st.sampled_from(["210000000001", None])),
        sub_account_name=draw(st.sampled_from(["prod", "", None])),
        service_name=draw(st.sampled_from(["Amazon EC2", "Amazon S3", None])),
        x_usage_type=draw(st.sampled_from(["BoxUsage:m5.large", "TimedStorage-ByteHrs", None])),
        pricing_unit=draw(st.sampled_from(["Hrs", "GB-Mo", None])),
        tags=draw(st.sampled_from([None, '{"team": "web"}', '{"team": "data"}'])),
        billed_cost=draw(amounts),
        effective_cost=draw(amounts),
        list_cost=draw(amounts),
        contracted_cost=draw(amounts),
        pricing_quantity=draw(st.one_of(st.none(), amounts)),
    )


@pytest.mark.usefixtures("tenant_a")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(line_items(), min_size=1, max_size=12),
    too_precise=st.booleans(),
)
def test_the_rollup_is_the_line_items_grouped_exactly_on_either_path(
    files: FakeFiles, items: list[dict[str, Any]], too_precise: bool
) -> None:
    if too_precise:  # more digits than the fast path holds: grouped in SQL instead
        items = [{**items[0], "pricing_quantity": "0.0000000000000000000123"}, *items[1:]]

    ingest(files, batch(items[:5]), batch(items[5:]))

    assert rollup_rows() == grouped_line_items()
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        by_key.setdefault((item["billing_period_start"], item["billing_account_id"]), []).append(
            item
        )
    for key, mine in by_key.items():
        assert totals(key) == expected_totals(mine), key


def expected_totals(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums of `items`' columns; pricing quantity counts none as zero, as `totals`."""
    sums = {c: sum((Decimal(row[c] or 0) for row in items), Decimal(0)) for c in SUMS[:-1]}
    return {**sums, "row_count": len(items)}


def test_amounts_a_sum_could_overflow_are_summed_in_sql(tenant_a: Tenant, files: FakeFiles) -> None:
    big = "9" * 19 + ".5"

    ingest(files, batch([line(billed_cost=big)] * 30))

    assert totals((PERIOD, PAYER))["billed_cost"] == Decimal(big) * 30
    assert rollup_rows() == grouped_line_items()


def test_redelivering_a_month_replaces_its_rollup_for_that_payer_only(
    tenant_a: Tenant, files: FakeFiles
) -> None:
    ingest(
        files, batch([line(billed_cost="5"), line(billed_cost="7", billing_account_id=OTHER_PAYER)])
    )
    ingest(files, batch([line(billed_cost="6", service_name="Amazon S3"), line(billed_cost="0.5")]))

    assert totals((PERIOD, PAYER))["billed_cost"] == Decimal("6.5")
    assert totals((PERIOD, OTHER_PAYER))["billed_cost"] == Decimal("7")
    assert CostRollup.objects.filter(billing_account_id=PAYER).count() == 2
    assert rollup_rows() == grouped_line_items()


def test_a_failing_ingest_keeps_the_previous_rollup(tenant_a: Tenant, files: FakeFiles) -> None:
    ingest(files, batch([line(billed_cost="5")]))
    before = rollup_rows()
    broken = files.add(
        "broken.csv", batch([line(billed_cost="99")]), BillFileError("broken.csv", "cut")
    )

    job = pipeline.run_ingest(ingest_job_create(actor=None, paths=[broken], enqueue=False).pk)

    assert job.status == IngestStatus.FAILED
    assert rollup_rows() == before
