"""Read one bill file (CSV, gzipped CSV or Parquet) into normalized batches.

The container is told by magic bytes and the bill format by the header or schema, never by
the file name. Reading is streamed in chunks of at most `chunk_rows` rows and only the
columns the format needs are read, so memory stays bounded whatever the file size.

Anything that makes the file as a whole unreadable raises `BillFileError`, possibly only
while iterating `batches()` (a gzip stream that ends early is found at its end): a caller
must not commit anything of a file before its last batch was read.

Text must be UTF-8. A byte that is not, in a column that is read (or in the header), refuses
the whole file, naming its row and column: such a file is in another encoding, and dropping
only the rows that happen to show it would lose money silently. Columns that are not read
are never decoded. A CSV row may be up to `MAX_ROW_BYTES` long; a longer one refuses the
file, naming the row.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from billing.ingest.contract import BillFileError, BillFormat, NormalizedBatch
from billing.ingest.csv_checks import find_long_row, first_invalid_utf8_in
from billing.ingest.formats import Layout, detect
from billing.ingest.normalize.cur import CurNormalizer
from billing.ingest.normalize.focus import FocusNormalizer
from billing.ingest.normalize.typed import as_text

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
BLOCK_BYTES = 2 << 20  # small blocks stay in the CPU cache: faster than large ones
MAX_ROW_BYTES = BLOCK_BYTES  # pyarrow reads any row that fits in one block
_READ_ERRORS = (pa.ArrowException, OSError, EOFError, UnicodeDecodeError, ValueError)


def open_bill(
    path: Path,
    *,
    display_name: str | None = None,
    chunk_rows: int = 200_000,
    tag_aliases: Mapping[str, str] | None = None,
) -> BillReader:
    """Open a bill, detect its format and check it has rows; raise `BillFileError` if not."""
    file = display_name or Path(path).name
    source = _open_source(Path(path), file, chunk_rows)
    layout = detect(source.header, file)
    source.start(layout.columns)
    return BillReader(source, layout, file, tag_aliases)


class BillReader:
    """One bill file: its format and the normalized batches of its rows.

    Issues name rows by line number, the header being line 1 and the first data row line 2.
    With quoted line breaks in a CSV, the data row's ordinal + 1 is used instead; in Parquet
    the row's ordinal + 1 (the first row is 2), the same way.
    """

    def __init__(
        self,
        source: CsvSource | ParquetSource,
        layout: Layout,
        file: str,
        tag_aliases: Mapping[str, str] | None,
    ) -> None:
        self.file = file
        self.format: BillFormat = layout.format
        self.version: str = layout.version
        self.rows_total: int | None = source.rows_total
        self.notes: list[str] = [*layout.notes, *sorted(source.notes)]
        self._source = source
        if layout.format is BillFormat.FOCUS:
            self._normalize: Any = FocusNormalizer(layout, file, tag_aliases)
        else:
            self._normalize = CurNormalizer(layout, file, tag_aliases)

    def batches(self) -> Iterator[NormalizedBatch]:
        line = 2
        for table in self._source.tables():
            batch = self._normalize(table, line)
            line += table.num_rows
            yield batch


def _open_source(path: Path, file: str, chunk_rows: int) -> CsvSource | ParquetSource:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise BillFileError(file, f"cannot be opened: {exc.strerror or exc}") from exc
    if size == 0:
        raise BillFileError(file, "empty file (0 bytes)")
    if magic == PARQUET_MAGIC:
        return ParquetSource(path, file, chunk_rows)
    return CsvSource(path, file, chunk_rows, compressed=magic[:2] == GZIP_MAGIC, size=size)


def _chunks(batches: Iterator[pa.RecordBatch], chunk_rows: int) -> Iterator[pa.Table]:
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(batch.num_rows, chunk_rows - count)
            pending.append(batch.slice(0, take))
            batch = batch.slice(take)
            count += take
            if count == chunk_rows:
                yield pa.Table.from_batches(pending)
                pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _read_error(file: str, exc: BaseException) -> BillFileError:
    text = str(exc)
    if "Truncated" in text or isinstance(exc, EOFError):
        return BillFileError(file, "the compressed data ends early: the file is truncated")
    if isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "UTF-8" in text:
        return BillFileError(file, f"not UTF-8 text: {text}")
    return BillFileError(file, f"cannot be read: {text}")


def _not_utf8(file: str, byte: int, *, row: int, column: str = "") -> BillFileError:
    return BillFileError(
        file,
        f"not UTF-8 text: the byte 0x{byte:02X} is not UTF-8 (is the file in another "
        "encoding? Save it as UTF-8 and load it again)",
        row=row,
        column=column,
    )


def check_utf8(table: pa.Table, file: str, first_row: int) -> None:
    """Refuse the file if a string or map column of `table` (read unchecked) is not UTF-8."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_map(column.type)):
            continue
        row = first_row
        for chunk in column.chunks:
            if _has_high_bytes(chunk) and not _valid(chunk):
                bad = first_invalid_utf8_in(chunk)
                if bad is not None:
                    raise _not_utf8(file, bad.byte, row=row + bad.index, column=name)
            row += len(chunk)


def _valid(values: pa.Array) -> bool:
    try:
        values.validate(full=True)  # checks UTF-8 in C++: the slow search only if it fails
    except pa.ArrowInvalid:
        return False
    return True


def _has_high_bytes(values: pa.Array) -> bool:
    """Whether any text buffer of `values` holds a byte that is not ASCII (cheap test)."""
    return any(
        np.frombuffer(buffer, dtype=np.uint8).max(initial=0) >= 0x80
        for buffer in values.buffers()[2:]
        if buffer is not None and buffer.size
    )


class CsvSource:
    """A CSV bill, plain or gzip-compressed, read as strings in streamed blocks."""

    def __init__(
        self, path: Path, file: str, chunk_rows: int, *, compressed: bool, size: int
    ) -> None:
        self.path, self.file, self.chunk_rows, self.compressed = path, file, chunk_rows, compressed
        self.notes: set[str] = set()
        self.rows_total: int | None = None
        self.header = self._header(size)
        # pyarrow needs a name for every column; only unnamed ones can repeat.
        self.names = [name or f"(column {i})" for i, name in enumerate(self.header, start=1)]
        self._reader: Any = None
        self._first: pa.RecordBatch | None = None

    def _header(self, size: int) -> list[str]:
        opener: Any = gzip.open if self.compressed else open
        # Bytes that are not UTF-8 become lone surrogates here, so the header can name them;
        # the rows after it are only counted.
        try:
            with opener(
                self.path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline=""
            ) as handle:
                header = next(csv.reader(handle), None)
                if not self.compressed:
                    sample = handle.read(1 << 20).encode("utf-8", "surrogateescape")
                    if sample and header:
                        per_byte = sample.count(b"\n") / len(sample)
                        body = size - len(",".join(header).encode("utf-8", "surrogateescape"))
                        self.rows_total = max(1, round((body - 1) * per_byte))
        except csv.Error as exc:
            raise self._csv_error(exc) from exc
        except (OSError, EOFError) as exc:
            raise _read_error(self.file, exc) from exc
        if not header or header == [""]:
            raise BillFileError(self.file, "empty file: no header and no rows")
        for name in header:
            lone = [char for char in name if "\udc80" <= char <= "\udcff"]
            if lone:
                shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raise _not_utf8(self.file, ord(lone[0]) - 0xDC00, row=1, column=shown)
        return header

    def _csv_error(self, exc: csv.Error) -> BillFileError:
        if "field limit" in str(exc):
            limit = f"{csv.field_size_limit():,}"
            return BillFileError(
                self.file, f"the header has a column name longer than {limit} characters", row=1
            )
        return _read_error(self.file, exc)

    def _long_row_error(self) -> BillFileError:
        found = find_long_row(self._open_binary, MAX_ROW_BYTES)
        limit = f"longer than {MAX_ROW_BYTES >> 20} MiB, the most one row may hold"
        if found is None:
            return BillFileError(self.file, f"a row is {limit}")
        where = f"it starts at byte {found.offset:,}"
        if self.compressed:
            where += " of the uncompressed text"
        return BillFileError(
            self.file,
            f"the row is {limit} ({where}; is a quote left open, or are its line breaks missing?)",
            row=found.row,
        )

    def _open_binary(self) -> Any:
        return gzip.open(self.path, "rb") if self.compressed else self.path.open("rb")

    def start(self, columns: list[str]) -> None:
        """Open the row stream and read the first block: a bill without rows is an error."""
        stream = pa.input_stream(str(self.path), compression="gzip" if self.compressed else None)
        try:
            self._reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=self.names, skip_rows=1, block_size=BLOCK_BYTES
                ),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=columns,
                    column_types={name: pa.string() for name in columns},
                    check_utf8=False,  # checked per chunk, only where a byte is not ASCII
                    # An unquoted empty field is CSV's null; a quoted "" is an empty string.
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                    null_values=[""],
                ),
            )
            self._first = self._next()
        except _READ_ERRORS as exc:
            raise self._error(exc) from exc
        if self._first is None:
            raise BillFileError(self.file, "the bill has a header but no rows", row=2)

    def _next(self) -> pa.RecordBatch | None:
        while True:
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                return None
            if batch.num_rows:
                return batch

    def _batches(self) -> Iterator[pa.RecordBatch]:
        batch, self._first = self._first, None
        while batch is not None:
            yield batch
            try:
                batch = self._next()
            except _READ_ERRORS as exc:
                raise self._error(exc) from exc

    def _error(self, exc: BaseException) -> BillFileError:
        if "straddl" in str(exc):  # pyarrow: a row longer than two blocks
            return self._long_row_error()
        return _read_error(self.file, exc)

    def tables(self) -> Iterator[pa.Table]:
        first_row = 2
        for table in _chunks(self._batches(), self.chunk_rows):
            table = table.combine_chunks()
            check_utf8(table, self.file, first_row)
            first_row += table.num_rows
            yield table


class ParquetSource:
    """A Parquet bill, read by row groups' batches; typed columns become text."""

    def __init__(self, path: Path, file: str, chunk_rows: int) -> None:
        self.file, self.chunk_rows = file, chunk_rows
        self.notes: set[str] = set()
        try:
            self._parquet = pq.ParquetFile(path)
        except _READ_ERRORS as exc:
            raise BillFileError(file, f"not a readable Parquet file: {exc}") from exc
        self.header: list[str] = list(self._parquet.schema_arrow.names)
        self.rows_total: int | None = self._parquet.metadata.num_rows
        self._columns: list[str] = []

    def start(self, columns: list[str]) -> None:
        if not self.rows_total:
            raise BillFileError(self.file, "the bill has no rows")
        self._columns = columns
        schema = self._parquet.schema_arrow
        if any(
            pa.types.is_timestamp(kind) and kind.tz is None
            for kind in (schema.field(name).type for name in columns)
        ):
            self.notes.add("Parquet timestamps without time zone are read as UTC")

    def tables(self) -> Iterator[pa.Table]:
        batches = self._parquet.iter_batches(batch_size=self.chunk_rows, columns=self._columns)
        first_row = 2
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except _READ_ERRORS as exc:
                raise BillFileError(self.file, f"corrupt Parquet data: {exc}") from exc
            # Parquet does not promise UTF-8 either: bytes are checked like a CSV's.
            arrays = [
                column.view(pa.string()) if pa.types.is_binary(column.type) else column
                for column in batch.columns
            ]
            table = pa.Table.from_arrays(arrays, names=batch.schema.names)
            check_utf8(table, self.file, first_row)
            first_row += table.num_rows
            yield pa.Table.from_arrays(
                [as_text(column) for column in table.columns], names=table.column_names
            )
