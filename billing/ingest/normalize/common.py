"""Vectorized building blocks shared by the CUR and FOCUS normalizers.

Every function takes whole columns (pyarrow arrays of strings) and records what it had to
interpret or reject in an `IssueLog`. Python runs only on the distinct values of a column
or on the few rows that are reported; masks are numpy booleans.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from decimal import Context
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.contract import IssueKey, IssueKind, RowIssue

EXACT = Context(prec=200)  # Decimal arithmetic on sums and amortization never rounds
# How exports write "no value" (SQL, Python, spreadsheets, pandas), compared without case;
# blank (whitespace only) values count too.
NULL_SPELLINGS = frozenset({"null", "none", "n/a", "nan"})
_LONGEST_NULL_SPELLING = max(map(len, NULL_SPELLINGS))
# Rows kept per issue and batch; every occurrence is counted.
EXAMPLE_ROWS = 1000

Message = str | Callable[[str, int], str]  # (value, row index in the batch) -> text


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def mask_of(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean pyarrow array as a numpy mask, null counting as false."""
    filled = as_array(pc.fill_null(array, False))
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def valid_mask(values: pa.Array) -> np.ndarray:
    n = len(values)
    if values.null_count == 0:
        return np.ones(n, dtype=bool)
    bits = np.frombuffer(values.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[values.offset : values.offset + n].astype(bool)


def offsets(values: pa.Array) -> np.ndarray:
    kind = np.int64 if pa.types.is_large_string(values.type) else np.int32
    return np.frombuffer(values.buffers()[1], dtype=kind)[
        values.offset : values.offset + len(values) + 1
    ]


def lengths(values: pa.Array) -> np.ndarray:
    """Byte length of each string (0 for null)."""
    return np.diff(offsets(values))


def rows_with_letter(values: pa.Array, letter: str) -> np.ndarray:
    """Rows whose text holds `letter` in either case, by scanning the data buffer once."""
    bounds = offsets(values)
    found = np.zeros(len(values), dtype=bool)
    data = values.buffers()[2]
    if data is None or bounds[-1] == bounds[0]:
        return found
    raw = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[-1]]
    hits = np.flatnonzero((raw | 0x20) == ord(letter.lower())) + bounds[0]
    found[np.searchsorted(bounds, hits, side="right") - 1] = True
    return found & valid_mask(values)


def null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """`values` with the rows in `mask` set to null (no copy of the strings)."""
    if not mask.any():
        return values
    keep = valid_mask(values) & ~mask
    if values.offset:
        return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)
    bitmap = pa.py_buffer(np.packbits(keep, bitorder="little"))
    buffers = values.buffers()
    return pa.Array.from_buffers(values.type, len(values), [bitmap, buffers[1], buffers[2]])


def string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    values = as_array(values)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values


def nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


class IssueLog:
    """The issues of one batch, and which of its rows are rejected.

    Rows are reported as lines: the header is line 1 and the batch's first row
    `first_line`. For Parquet, where there are no lines, the row ordinal + 1 is used
    the same way (the first row is 2).
    """

    def __init__(self, file: str, first_line: int, n: int) -> None:
        self.file = file
        self.first_line = first_line
        self.n = n
        self.rejected = np.zeros(n, dtype=bool)
        self._issues: list[tuple[int, int, RowIssue]] = []
        self.counts: dict[IssueKey, int] = {}

    def add(
        self,
        column: str,
        mask: np.ndarray,
        values: pa.Array | None,
        message: Message,
        kind: IssueKind,
    ) -> None:
        """Report `message` for every row in `mask`, quoting that row's value.

        All are counted; the first EXAMPLE_ROWS are kept as rows (a messy file can have
        an issue on every value of a column).
        """
        index = np.flatnonzero(mask)
        if not index.size:
            return
        if kind is IssueKind.REJECTED:
            self.rejected[index] = True
        total = int(index.size)
        index = index[:EXAMPLE_ROWS]
        shown = values.take(pa.array(index)).to_pylist() if values is not None else None
        texts = ["" if v is None else str(v) for v in shown] if shown else [""] * index.size
        rows = index.tolist()
        if callable(message):
            said = [message(text, i) for text, i in zip(texts, rows, strict=True)]
        else:
            said = [message] * len(rows)
        label = said[0] if len(set(said)) == 1 else f"{column} has values read as others"
        key = (self.file, column, label, str(kind))
        self.counts[key] = self.counts.get(key, 0) + total
        file, first, start = self.file, self.first_line, len(self._issues)
        self._issues += [
            (i, start + k, RowIssue(file, first + i, column, text, said[k], kind))
            for k, (i, text) in enumerate(zip(rows, texts, strict=True))
        ]

    def add_at(self, row_index: int, column: str, value: str, message: str) -> None:
        """One interpreted remark at one row (row_index -1 is the header)."""
        line = 1 if row_index < 0 else self.first_line + row_index
        issue = RowIssue(self.file, line, column, value, message, IssueKind.INTERPRETED)
        self._issues.append((row_index, len(self._issues), issue))
        key = (self.file, column, message, str(IssueKind.INTERPRETED))
        self.counts[key] = self.counts.get(key, 0) + 1

    def reject(
        self, column: str, mask: np.ndarray, values: pa.Array | None, message: Message
    ) -> None:
        self.add(column, mask, values, message, IssueKind.REJECTED)

    def interpret(self, column: str, mask: np.ndarray, values: pa.Array, message: Message) -> None:
        self.add(column, mask, values, message, IssueKind.INTERPRETED)

    def take_kept(self, other: IssueLog, note: str) -> None:
        """Take `other`'s issues (same rows) as this log's, its rejections as values
        that were read with `note` instead: those rows are kept."""
        start = len(self._issues)
        for row_index, order, issue in other._issues:
            if issue.kind is IssueKind.REJECTED:
                issue = RowIssue(
                    issue.file,
                    issue.row,
                    issue.column,
                    issue.value,
                    f"{issue.message}; {note}",
                    IssueKind.INTERPRETED,
                )
            self._issues.append((row_index, start + order, issue))
        for (file, column, message, kind), count in other.counts.items():
            if kind == str(IssueKind.REJECTED):
                message, kind = f"{message}; {note}", str(IssueKind.INTERPRETED)
            key = (file, column, message, kind)
            self.counts[key] = self.counts.get(key, 0) + count

    def issues(self) -> list[RowIssue]:
        self._issues.sort(key=_row_and_order)
        return [issue for _, _, issue in self._issues]


def _row_and_order(item: tuple[int, int, RowIssue]) -> tuple[int, int]:
    return item[0], item[1]


def clean_text(
    values: pa.Array | pa.ChunkedArray, column: str, log: IssueLog, *, report_empty: bool
) -> pa.Array:
    """Strings with every spelling of null (`NULL`, `None`, `N/A`, `NaN`, blank) as null,
    each spelling reported; empty strings too, reported or not."""
    values = string_array(values)
    sizes = lengths(values)
    empty = (sizes == 0) & valid_mask(values)
    spelled = _null_spellings(values, sizes)
    for spelling, mask in spelled.items():
        message = (
            "a blank value is read as null"
            if not spelling.strip()
            else f"the literal {spelling} is read as null"
        )
        log.interpret(column, mask, values, message)
    if report_empty:
        log.interpret(column, empty, values, "an empty value is read as null")
    for mask in spelled.values():
        empty |= mask
    return null_where(values, empty)


def _null_spellings(values: pa.Array, sizes: np.ndarray) -> dict[str, np.ndarray]:
    """Rows that spell null, by spelling as written. Only values that start with `n` or a
    blank are looked at (every spelling does), so amounts, ids and codes cost nothing."""
    data = values.buffers()[2]
    if data is None or not len(values):
        return {}
    raw = np.frombuffer(data, dtype=np.uint8)
    if not raw.size:
        return {}
    first = raw.take(offsets(values)[:-1], mode="clip")
    spelled = ((first | 0x20) == ord("n")) & (sizes <= _LONGEST_NULL_SPELLING)
    blank = first <= ord(" ")  # checked exactly below
    index = np.flatnonzero((spelled | blank) & (sizes > 0) & valid_mask(values))
    if not index.size:
        return {}
    shown = values.take(pa.array(index))
    normal = pc.utf8_lower(pc.utf8_trim_whitespace(shown))
    hits = mask_of(pc.is_in(normal, value_set=pa.array(["", *sorted(NULL_SPELLINGS)])))
    if not hits.any():
        return {}
    rows = index[hits]
    distinct = Distinct(shown.filter(pa.array(hits)))
    found: dict[str, np.ndarray] = {}
    for k, spelling in enumerate(distinct.values):
        found[spelling] = np.zeros(len(values), dtype=bool)
        found[spelling][rows[distinct.indices == k]] = True
    return found


def required(
    values: pa.Array,
    column: str,
    log: IssueLog,
    shown: pa.Array | None = None,
    already: np.ndarray | None = None,
) -> None:
    """Reject rows where `values` is null, quoting `shown` (the value as written); rows in
    `already` were rejected for their value and are not reported again."""
    missing = ~valid_mask(values)
    if already is not None:
        missing &= ~already
    shown = shown if shown is not None else values
    log.reject(column, missing, shown, f"{column} is required but missing")


class Distinct:
    """A column as its distinct values and, per row, the index of its value (-1: null)."""

    def __init__(self, values: pa.Array) -> None:
        encoded = pc.dictionary_encode(values)
        self.values: list[Any] = encoded.dictionary.to_pylist()
        self.pa_indices = encoded.indices
        self.indices = np.asarray(
            encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64
        )

    def rows(self, per_value: list[Any], fill: Any, dtype: Any) -> np.ndarray:
        """A numpy array per row from one result per distinct value (`fill` for nulls)."""
        return np.array([*per_value, fill], dtype=dtype)[self.indices]

    def strings(self, per_value: list[str | None]) -> pa.Array:
        return pa.array(per_value, pa.string()).take(self.pa_indices)


class Cache:
    """A bounded memo of per-value results, kept across the batches of one file."""

    def __init__(self, fn: Callable[[Any], Any], limit: int = 200_000) -> None:
        self.fn, self.limit, self.memo = fn, limit, dict[Hashable, Any]()

    def __call__(self, value: Any) -> Any:
        found = self.memo.get(value)
        if found is None:
            if len(self.memo) >= self.limit:
                self.memo.clear()
            found = self.memo[value] = self.fn(value)
        return found
