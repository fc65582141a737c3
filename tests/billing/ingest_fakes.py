"""Normalized batches built by hand, to test the store without the file readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from billing.ingest.contract import (
    STORE_COLUMN_NAMES,
    STORE_SCHEMA,
    BillFormat,
    NormalizedBatch,
    PeriodKey,
    Sums,
)

PAYER = "111122223333"
PERIOD = "2026-01-01"


def line(**values: Any) -> dict[str, Any]:
    """One normalized row with sensible defaults."""
    row: dict[str, Any] = dict.fromkeys(STORE_COLUMN_NAMES)
    row.update(
        billing_period_start=PERIOD,
        billing_period_end="2026-02-01",
        billing_account_id=PAYER,
        sub_account_id="210000000001",
        sub_account_name="prod",
        charge_period_start="2026-01-05T00:00:00Z",
        charge_period_end="2026-01-05T01:00:00Z",
        provider_name="AWS",
        service_name="Amazon EC2",
        region_id="us-east-1",
        charge_category="Usage",
        billed_cost="1.25",
        effective_cost="1.00",
        list_cost="1.50",
        contracted_cost="1.25",
        billing_currency="USD",
    )
    row.update({key: (None if value is None else str(value)) for key, value in values.items()})
    return row


def batch(
    rows: list[dict[str, Any]], *, rejected: Sequence[dict[str, Any]] = ()
) -> NormalizedBatch:
    """A batch of `rows`; `rejected` rows count in the sums as read but not stored."""
    table = pa.Table.from_pylist(rows, schema=STORE_SCHEMA)
    source: dict[PeriodKey, Sums] = {}
    rejected_sums: dict[PeriodKey, Sums] = {}
    for target, group in ((source, [*rows, *rejected]), (rejected_sums, list(rejected))):
        for row in group:
            key = (row["billing_period_start"], row["billing_account_id"])
            sums = target.setdefault(key, Sums())
            sums.add(Sums(1, Decimal(row["billed_cost"]), Decimal(row["effective_cost"])))
    return NormalizedBatch(
        table=table,
        rows_read=len(rows) + len(rejected),
        source_sums=source,
        rejected_sums=rejected_sums,
    )


@dataclass
class FakeReader:
    batches_to_give: list[Any]
    format: BillFormat = BillFormat.FOCUS
    version: str = "1.2"
    notes: list[str] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        return sum(b.rows_read for b in self.batches_to_give if isinstance(b, NormalizedBatch))

    def batches(self) -> Any:
        for item in self.batches_to_give:
            if isinstance(item, BaseException):
                raise item
            if callable(item):
                item()
                continue
            yield item


class FakeFiles:
    """Files on disk (the ingest hashes them) whose content the fake reader supplies."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.readers: dict[str, FakeReader] = {}

    def add(self, name: str, *items: Any) -> Path:
        path = self.folder / name
        path.write_text(f"{name}: {len(self.readers)} {id(items)}")
        self.readers[str(path.resolve())] = FakeReader(list(items))
        return path

    def open_bill(self, path: Path, **kwargs: Any) -> FakeReader:
        return self.readers[str(Path(path).resolve())]
