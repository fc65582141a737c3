"""Opening bill files: formats told from content, whole-file errors, chunks and row numbers."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from billing.generator import write_cur2, write_cur_legacy, write_focus
from billing.ingest.contract import (
    STORE_SCHEMA,
    BillFileError,
    BillFormat,
    IssueKind,
    PeriodKey,
    RowIssue,
    Sums,
)
from billing.ingest.readers import open_bill
from tests.billing.bill_rows import CUR_ROW, PAYER

ROW = {"identity/LineItemId": "id", **CUR_ROW}
LEGACY = list(ROW)


def legacy_row(i: int, cost: str = "1.5", description: str = "", **changes: str) -> list[str]:
    row = {**ROW, "lineItem/UnblendedCost": cost, "lineItem/LineItemDescription": description}
    return list({**row, "identity/LineItemId": f"id{i}", **changes}.values())


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write(path: Path, text: str, *, gz: bool = False) -> Path:
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def read_all(path: Path, **options: Any) -> tuple[pa.Table, list[RowIssue], dict[PeriodKey, Sums]]:
    reader = open_bill(path, **options)
    tables: list[pa.Table] = []
    issues: list[RowIssue] = []
    sums: dict[PeriodKey, Sums] = {}
    for batch in reader.batches():
        tables.append(batch.table)
        issues += batch.issues
        for key, value in batch.source_sums.items():
            sums.setdefault(key, Sums()).add(value)
    return pa.concat_tables(tables), issues, sums


def test_gzip_is_told_by_its_magic_bytes_not_its_name(tmp_path: Path) -> None:
    text = csv_text(LEGACY, [legacy_row(1), legacy_row(2)])
    gzipped = write(tmp_path / "bill.csv", text, gz=True)
    plain = write(tmp_path / "bill.csv.gz", text)

    for path in (gzipped, plain):
        reader = open_bill(path)
        assert reader.format is BillFormat.CUR_LEGACY
        assert reader.version == "legacy"
        table, issues, _ = read_all(path)
        assert table.num_rows == 2 and issues == []
        assert table.schema == STORE_SCHEMA


def test_parquet_is_told_by_its_magic_bytes(tmp_path: Path) -> None:
    table = pa.table({name: [value] for name, value in zip(LEGACY, legacy_row(1), strict=True)})
    path = tmp_path / "bill.csv"  # a misleading name
    pq.write_table(table, path)

    reader = open_bill(path)

    assert reader.format is BillFormat.CUR_LEGACY
    assert reader.rows_total == 1


def test_display_name_names_the_file_in_issues_and_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", csv_text(LEGACY, [legacy_row(1, cost="abc")]))

    _, issues, _ = read_all(path, display_name="january.csv")

    assert [(i.file, i.row, i.column, i.value) for i in issues] == [
        ("january.csv", 2, "lineItem/UnblendedCost", "abc")
    ]


def _truncated_gzip() -> bytes:
    rows = [legacy_row(i, description="x" * 50) for i in range(20_000)]
    data = gzip.compress(csv_text(LEGACY, rows).encode())
    return data[: len(data) * 3 // 4]


FILE_ERRORS = [
    ("empty.csv", b"", "empty file"),
    ("empty.csv.gz", gzip.compress(b"", mtime=0), "empty file"),
    ("header.csv", csv_text(LEGACY, []).encode(), "header but no rows"),
    ("people.csv", b"name,email\nAda,ada@example.com\n", r"not a bill.*name, email"),
    ("cut.csv.gz", _truncated_gzip(), "the file is truncated"),
    ("bad.parquet", b"PAR1" + bytes(100), "not a readable Parquet file"),
    ("latin1.csv", csv_text(LEGACY, [legacy_row(1, "\xc9")]).encode("latin-1"), "UTF-8"),
    ("short.csv", (csv_text(LEGACY, [legacy_row(1)]) + "id2,1\n").encode(), "Expected 12 columns"),
]


@pytest.mark.parametrize(("name", "content", "message"), FILE_ERRORS)
def test_a_file_that_cannot_be_read_as_a_whole_is_an_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(BillFileError, match=message) as error:
        for _ in open_bill(path, display_name=f"upload/{name}").batches():
            pass  # some errors (a truncated gzip) show only at the end of the data

    assert error.value.file == f"upload/{name}"


def test_a_parquet_file_without_rows_is_an_empty_bill(tmp_path: Path) -> None:
    path = tmp_path / "none.parquet"
    pq.write_table(pa.table({name: pa.array([], pa.string()) for name in LEGACY}), path)
    with pytest.raises(BillFileError, match="no rows"):
        open_bill(path)


def test_missing_required_columns_are_listed(tmp_path: Path) -> None:
    header = [n for n in LEGACY if n not in ("lineItem/UnblendedCost", "bill/PayerAccountId")]
    path = write(tmp_path / "cur.csv", csv_text(header, [["x"] * len(header)]))
    with pytest.raises(BillFileError) as error:
        open_bill(path)
    assert error.value.message == (
        "AWS CUR file without required columns: bill/PayerAccountId, lineItem/UnblendedCost"
    )
    assert error.value.row == 1


def test_missing_focus_columns_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("BilledCost,BillingAccountId,ChargePeriodStart,ChargePeriodEnd\n1,a,b,c\n")
    with pytest.raises(BillFileError) as error:
        open_bill(path)
    assert error.value.message == (
        "FOCUS file without required columns: BillingPeriodStart, BillingPeriodEnd, "
        "ChargeCategory, BillingCurrency"
    )  # EffectiveCost, ListCost and ContractedCost can be derived from BilledCost


def test_chunks_keep_row_numbers_across_batches(tmp_path: Path) -> None:
    rows = [legacy_row(i, cost="abc" if i in (0, 4, 9) else "1") for i in range(10)]
    path = write(tmp_path / "ten.csv", csv_text(LEGACY, rows))

    batches = list(open_bill(path, chunk_rows=4).batches())

    assert [b.rows_read for b in batches] == [4, 4, 2]
    assert [b.table.num_rows for b in batches] == [3, 3, 1]
    assert [i.row for b in batches for i in b.issues] == [2, 6, 11]


def test_quoted_line_breaks_stay_inside_their_value(tmp_path: Path) -> None:
    rows = [legacy_row(1, description="two\nlines"), legacy_row(2, cost="x")]
    path = write(tmp_path / "nl.csv", csv_text(LEGACY, rows))

    table, issues, _ = read_all(path)

    assert table.num_rows == 1
    assert [(i.row, i.value) for i in issues] == [(3, "x")]  # data row ordinal + 1


def test_sums_count_read_and_rejected_rows_exactly(tmp_path: Path) -> None:
    rows = [
        legacy_row(1, cost="0.1"),
        legacy_row(2, cost="0.2"),
        legacy_row(3, cost="1.2E-7", **{"lineItem/UsageStartDate": "2025-12-31T23:00:00Z"}),
        legacy_row(4, cost="1e400x"),
    ]
    path = write(tmp_path / "sums.csv", csv_text(LEGACY, rows))

    batch = next(open_bill(path).batches())

    key = ("2026-01-01", PAYER)
    assert batch.source_sums[key].rows == 4  # a row with an unreadable cost counts as 0
    assert batch.source_sums[key].billed_cost == Decimal("0.30000012")
    assert batch.rejected_sums[key].rows == 2
    assert batch.rejected_sums[key].billed_cost == Decimal("0.00000012")
    assert batch.table["billed_cost"].to_pylist() == ["0.1", "0.2"]


def test_numbers_are_stored_as_plain_decimal_text(tmp_path: Path) -> None:
    costs = ["1.2E-7", "-3.5e+2", "0.000000000000000000001", "12345678901234.5", " 7 "]
    rows = [legacy_row(i, cost=cost) for i, cost in enumerate(costs)]
    path = write(tmp_path / "n.csv", csv_text(LEGACY, rows))

    batch = next(open_bill(path).batches())
    table, issues = batch.table, batch.issues

    assert issues == []
    assert table["billed_cost"].to_pylist() == [
        "0.00000012",
        "-350",
        "0.000000000000000000001",
        "12345678901234.5",
        "7",
    ]
    # Exact beyond the 28 digits of Python's default context (Sums.add uses that one).
    total = batch.source_sums[("2026-01-01", PAYER)].billed_cost
    assert total == Decimal("12345678900891.500000120000000000001")


def test_timestamps_are_iso_utc_and_dates_plain(tmp_path: Path) -> None:
    rows = [
        legacy_row(1, **{"lineItem/UsageStartDate": "2026-01-05T01:00:00+01:00"}),
        legacy_row(2, **{"lineItem/UsageEndDate": "2026-01-05 01:00:00"}),
    ]
    path = write(tmp_path / "t.csv", csv_text(LEGACY, rows))

    table, issues, _ = read_all(path)

    assert table["charge_period_start"].to_pylist() == ["2026-01-05T00:00:00Z"] * 2
    assert table["charge_period_end"].to_pylist() == ["2026-01-05T01:00:00Z"] * 2
    assert table["billing_period_start"].to_pylist() == ["2026-01-01"] * 2
    assert table["billing_period_end"].to_pylist() == ["2026-02-01"] * 2
    no_zone = "a timestamp without time zone is read as UTC"
    found = [(i.row, i.column, i.kind, i.message) for i in issues]
    assert found == [(3, "lineItem/UsageEndDate", IssueKind.INTERPRETED, no_zone)]


def test_plain_csv_gives_an_estimate_of_its_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", csv_text(LEGACY, [legacy_row(i) for i in range(500)]))
    gzipped = write(tmp_path / "e.gz", csv_text(LEGACY, [legacy_row(1)]), gz=True)

    assert 450 <= (open_bill(path).rows_total or 0) <= 550
    assert open_bill(gzipped).rows_total is None


def test_utf8_text_is_read(tmp_path: Path) -> None:
    row = legacy_row(1, **{"lineItem/ProductCode": "Café"})

    table, issues, _ = read_all(write(tmp_path / "utf8.csv", csv_text(LEGACY, [row])))

    assert table["service_name"].to_pylist() == ["Café"] and issues == []


WRITERS = [
    (write_cur_legacy, "csv.gz"),
    (write_cur_legacy, "parquet"),
    (write_cur2, "csv"),
    (write_cur2, "parquet"),
    (partial(write_focus, version="1.0"), "csv"),
    (partial(write_focus, version="1.2"), "parquet"),
]


@pytest.mark.parametrize(("writer", "fmt"), WRITERS)
def test_generated_bills_read_back_to_their_exact_sums(
    tmp_path: Path, writer: Any, fmt: str
) -> None:
    bill = writer(
        tmp_path / f"b.{fmt}", rows=2_000, period=date(2026, 1, 1), payer_id=PAYER, fmt=fmt
    )

    reader = open_bill(bill.path, chunk_rows=700, tag_aliases={"Team": "team"})
    sums: dict[PeriodKey, Sums] = {}
    for batch in reader.batches():
        assert batch.rejected_sums == {}
        assert [i for i in batch.issues if i.kind is IssueKind.REJECTED] == []
        for key, value in batch.source_sums.items():
            sums.setdefault(key, Sums()).add(value)

    assert reader.format is bill.bill_format
    assert sums == bill.expected
