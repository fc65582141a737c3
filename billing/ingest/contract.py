"""What file readers hand to the store: normalized batches, row issues and sums.

Readers (`billing.ingest.readers`) turn one bill file into `NormalizedBatch`es whose
`table` has exactly `STORE_COLUMNS`, all as strings (or null) that PostgreSQL reads
directly: money and quantities as plain decimal text, dates as `YYYY-MM-DD`, timestamps
as ISO 8601 in UTC. The store (`billing.ingest.store`) copies them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum

import numpy as np
import pyarrow as pa

# (name, PostgreSQL type) in table order. `tags` is a JSON object with normalized keys.
STORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("billing_period_start", "date"),
    ("billing_period_end", "date"),
    ("billing_account_id", "text"),
    ("billing_account_name", "text"),
    ("sub_account_id", "text"),
    ("sub_account_name", "text"),
    ("charge_period_start", "timestamptz"),
    ("charge_period_end", "timestamptz"),
    ("provider_name", "text"),
    ("service_name", "text"),
    ("service_category", "text"),
    ("region_id", "text"),
    ("availability_zone", "text"),
    ("resource_id", "text"),
    ("sku_id", "text"),
    ("charge_category", "text"),
    ("charge_class", "text"),
    ("charge_frequency", "text"),
    ("billed_cost", "numeric"),
    ("effective_cost", "numeric"),
    ("list_cost", "numeric"),
    ("contracted_cost", "numeric"),
    ("billing_currency", "text"),
    ("consumed_quantity", "numeric"),
    ("consumed_unit", "text"),
    ("pricing_quantity", "numeric"),
    ("pricing_unit", "text"),
    ("commitment_discount_id", "text"),
    ("commitment_discount_type", "text"),
    ("tags", "jsonb"),
    ("x_line_item_type", "text"),
    ("x_usage_type", "text"),
    ("x_operation", "text"),
    ("x_instance_type", "text"),
    ("x_purchase_option", "text"),
)
STORE_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in STORE_COLUMNS)
STORE_SCHEMA = pa.schema([(name, pa.string()) for name in STORE_COLUMN_NAMES])
MONEY_COLUMNS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
# Never null in a stored row.
REQUIRED_COLUMNS = (
    "billing_period_start",
    "billing_period_end",
    "billing_account_id",
    "charge_period_start",
    "charge_period_end",
    "charge_category",
    "billing_currency",
    *MONEY_COLUMNS,
)


class BillFormat(StrEnum):
    CUR_LEGACY = "cur_legacy"
    CUR_2 = "cur_2"
    FOCUS = "focus"


class IssueKind(StrEnum):
    REJECTED = "rejected"  # the row was not stored
    INTERPRETED = "interpreted"  # the value was read as something else (stored)


@dataclass(frozen=True)
class RowIssue:
    """One value a reader rejected or had to interpret, located in its file."""

    file: str
    row: int  # line number in the file: the header is line 1, the first data row line 2
    column: str  # the source column's name as written in the file
    value: str
    message: str
    kind: IssueKind

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column}: {self.message}"


@dataclass
class Sums:
    """Exact sums of one billing period and payer."""

    rows: int = 0
    billed_cost: Decimal = Decimal(0)
    effective_cost: Decimal = Decimal(0)

    def add(self, other: Sums) -> None:
        # Wide enough that no sum of bill amounts is ever rounded.
        with localcontext(prec=EXACT_DIGITS):
            self.rows += other.rows
            self.billed_cost += other.billed_cost
            self.effective_cost += other.effective_cost


# Decimal precision for adding amounts: far beyond any bill, so additions stay exact.
EXACT_DIGITS = 200

# (file, column, message, kind): how often a reader reported that
IssueKey = tuple[str, str, str, str]

# (billing_period_start as YYYY-MM-DD, billing_account_id)
PeriodKey = tuple[str, str]


@dataclass
class NormalizedBatch:
    """Up to a chunk of one file's rows, ready to store.

    `issues` holds the first rows of each kind of issue; `issue_counts` counts them all.
    `source_sums` covers every row of the chunk whose period and payer could be read (stored
    or not; a cost that cannot be read counts as 0); `rejected_sums` the part of it that was
    rejected. So for each key, source = stored + rejected, which the store checks after
    loading.
    """

    table: pa.Table  # STORE_SCHEMA
    rows_read: int  # data rows read from the file in this batch, rejected ones included
    issues: list[RowIssue] = field(default_factory=list)
    issue_counts: dict[IssueKey, int] = field(default_factory=dict)
    source_sums: dict[PeriodKey, Sums] = field(default_factory=dict)
    rejected_sums: dict[PeriodKey, Sums] = field(default_factory=dict)
    # What identifies each row as a line item, where the format has it (CUR).
    line_items: LineItemIds | None = None


@dataclass
class LineItemIds:
    """Per row of a batch's `table`: a 64-bit hash of what identifies the row as a line
    item (billing period, payer, CUR identity/LineItemId and identity/TimeInterval; 0 when
    the row has no id), its line in the file, and the id as written (to report a repeat)."""

    file: str
    column: str  # the id's column as named in the file
    hashes: np.ndarray  # uint64
    lines: np.ndarray  # int64
    ids: pa.Array


class BillFileError(Exception):
    """The file as a whole cannot be read as a bill; nothing of it is stored."""

    def __init__(self, file: str, message: str, *, row: int | None = None, column: str = ""):
        where = file + (f", row {row}" if row else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")
        self.file = file
        self.row = row
        self.column = column
        self.message = message
