"""Bills and line items given more than once are counted once.

The same file twice in one ingest is read once (`keep_first_of_each_content`). A CUR line
item read again, from the same file or another of the ingest, is rejected as a repeat
(`LineItemRegister`): it is reported by file, row and column, and its money counts as
rejected, so that for each billing period and payer the files' sum is still what was
stored plus what was rejected. A line item is identified by its billing period, payer,
identity/LineItemId and identity/TimeInterval (a line item spanning several hours or days
repeats its id once per interval). FOCUS has no line item id: only repeated files are
found there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.contract import IssueKind, LineItemIds, NormalizedBatch, RowIssue, Sums
from billing.ingest.normalize.common import IssueLog, as_array, valid_mask
from billing.ingest.normalize.typed import as_text


def keep_first_of_each_content(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files with distinct contents (by sha256), each first one as given.

    A later file with the same contents is not read again; its name is kept in the first
    one's `also_given_as`, for `repeat_notes`. Distinct files that share a name get
    "name (2)", "name (3)" ..., so that what the ingest reports names one file.
    """
    kept: dict[str, dict[str, Any]] = {}
    names: dict[str, int] = {}
    for entry in files:
        first = kept.get(entry["sha256"])
        if first is not None:
            first.setdefault("also_given_as", []).append(entry["name"])
            continue
        names[entry["name"]] = names.get(entry["name"], 0) + 1
        if names[entry["name"]] > 1:
            entry = {**entry, "name": f"{entry['name']} ({names[entry['name']]})"}
        kept[entry["sha256"]] = entry
    return list(kept.values())


def repeat_notes(files: list[dict[str, Any]]) -> list[str]:
    """One note per file given again in the same ingest."""
    notes = []
    for entry in files:
        for again in entry.get("also_given_as", []):
            if again == entry["name"]:
                notes.append(f"{again} was given twice: read once.")
            else:
                notes.append(f"{again} has the same contents as {entry['name']}: read once.")
    return notes


# A line item read again, from the same file or another of the ingest.
REPEAT_MESSAGE = (
    "repeats a line item read before (the same identity/LineItemId and identity/TimeInterval "
    "in the same billing period and payer): not counted twice"
)
# Rows of each batch kept as examples of repeats; all are counted.
REPEAT_EXAMPLES = 1000
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIXERS = (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))


def identify_line_items(
    table: pa.Table,
    fields: dict[str, str],
    log: IssueLog,
    *,
    period_start: pa.Array,
    payer: pa.Array,
) -> LineItemIds | None:
    """The line item identity of each row a CUR normalizer kept (None without the id)."""
    column = fields.get("line_item_id")
    if column is None:
        return None
    ids = as_text(table[column])
    parts = [as_array(period_start), as_array(payer)]
    if "time_interval" in fields:
        parts.append(as_text(table[fields["time_interval"]]))
    id_hashes = _hash_strings(ids)
    hashes = id_hashes.copy()
    for salt, part in enumerate(parts, start=1):
        # Few distinct values each (one period and payer, a month's hours): hash those.
        encoded = pc.dictionary_encode(part, null_encoding="encode")  # null hashes as 0
        distinct = _wrapping_multiply(_hash_strings(encoded.dictionary), 2 * salt + 1)
        hashes ^= distinct[encoded.indices.to_numpy()]
    hashes = _avalanche(hashes)
    hashes[(id_hashes == 0) | ~valid_mask(ids)] = 0  # no id: not compared
    lines = np.arange(log.first_line, log.first_line + log.n, dtype=np.int64)
    kept = ~log.rejected
    if not kept.all():
        hashes, lines, ids = hashes[kept], lines[kept], ids.filter(pa.array(kept))
    return LineItemIds(file=log.file, column=column, hashes=hashes, lines=lines, ids=ids)


class LineItemRegister:
    """The line items one ingest has read so far, as sorted runs of their 64-bit hashes
    (8 bytes a row); `drop_repeats` takes a line item read again out of its batch.

    Two different line items share a hash once in about 2^64 / n² months of n rows.
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def drop_repeats(self, batch: NormalizedBatch) -> None:
        items = batch.line_items
        if items is None or not len(items.hashes):
            return
        ordered = np.sort(items.hashes)
        ordered = ordered[ordered != 0]
        # Sorted queries keep the lookups cheap; rows are only located if one repeats.
        repeated = bool((ordered[1:] == ordered[:-1]).any()) or any(
            (run[np.minimum(np.searchsorted(run, ordered), len(run) - 1)] == ordered).any()
            for run in self._runs
        )
        if not repeated:
            self._add(ordered)
            return
        again = self._repeated_rows(items.hashes)
        self._add(np.sort(items.hashes[(items.hashes != 0) & ~again]))
        _reject(batch, items, again)

    def _repeated_rows(self, hashes: np.ndarray) -> np.ndarray:
        """Rows whose line item came before, in an earlier row or batch."""
        order = np.argsort(hashes, kind="stable")  # equal hashes keep their row order
        ordered = hashes[order]
        again = np.zeros(len(hashes), dtype=bool)
        again[order[1:][ordered[1:] == ordered[:-1]]] = True
        for run in self._runs:
            again |= np.isin(hashes, run)
        return again & (hashes != 0)

    def _add(self, run: np.ndarray) -> None:
        if not len(run):
            return
        self._runs.append(run)
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            newer, older = self._runs.pop(), self._runs.pop()
            self._runs.append(np.sort(np.concatenate([older, newer]), kind="stable"))


def _reject(batch: NormalizedBatch, items: LineItemIds, again: np.ndarray) -> None:
    """Take the repeated rows out of the batch; their money counts as rejected."""
    rows = pa.array(np.flatnonzero(again))
    repeated = batch.table.take(rows)
    for period, payer, billed, effective in zip(
        *(repeated.column(name).to_pylist() for name in _SUM_COLUMNS), strict=True
    ):
        sums = batch.rejected_sums.setdefault((period, payer), Sums())
        sums.add(Sums(rows=1, billed_cost=Decimal(billed), effective_cost=Decimal(effective)))
    ids = items.ids.take(rows).to_pylist()
    lines = items.lines[np.flatnonzero(again)]
    batch.issues += [
        RowIssue(
            items.file, int(line), items.column, value or "", REPEAT_MESSAGE, IssueKind.REJECTED
        )
        for line, value in zip(lines[:REPEAT_EXAMPLES], ids, strict=False)
    ]
    key = (items.file, items.column, REPEAT_MESSAGE, str(IssueKind.REJECTED))
    batch.issue_counts[key] = batch.issue_counts.get(key, 0) + len(rows)
    batch.table = batch.table.filter(pa.array(~again))
    batch.line_items = None


_SUM_COLUMNS = ("billing_period_start", "billing_account_id", "billed_cost", "effective_cost")


def _hash_strings(values: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string (0 for an empty one), vectorized per string length:
    AWS's ids all have one length, so a batch is one step."""
    values = values.cast(pa.string())
    count = len(values)
    hashes = np.zeros(count, dtype=np.uint64)
    if not count or values.buffers()[2] is None:
        return hashes
    offsets = np.frombuffer(values.buffers()[1], np.int32)[
        values.offset : values.offset + count + 1
    ]
    data = np.frombuffer(values.buffers()[2], np.uint8)
    lengths = np.diff(offsets)
    for width in np.unique(lengths).tolist():
        if width == 0:
            continue
        if len(lengths) and (lengths == width).all():
            rows: Any = slice(None)
            matrix = data[offsets[0] : offsets[0] + count * width].reshape(count, width)
        else:
            rows = np.flatnonzero(lengths == width)
            matrix = data[offsets[:-1][rows, None] + np.arange(width)]
        hashes[rows] = _mix(matrix)
    return hashes


def _wrapping_multiply(hashes: np.ndarray, factor: int | np.uint64) -> np.ndarray:
    """`hashes * factor` modulo 2^64, as hashing means it: the overflow is the point, so
    NumPy is told not to warn of it (it does for a single value)."""
    with np.errstate(over="ignore"):
        return np.multiply(np.asarray(hashes, dtype=np.uint64), np.uint64(factor))


def _mix(matrix: np.ndarray) -> np.ndarray:
    """Hash each row of a (rows, width) byte matrix: 8 bytes at a time, then the rest."""
    rows, width = matrix.shape
    words = np.ascontiguousarray(matrix[:, : width // 8 * 8]).view(np.uint64)
    hashes = np.full(rows, (width * int(_MULTIPLIER)) % 2**64, dtype=np.uint64)
    for index in range(words.shape[1]):
        hashes = _wrapping_multiply(hashes ^ words[:, index], _MULTIPLIER)
    for index in range(width // 8 * 8, width):
        hashes = _wrapping_multiply(hashes ^ matrix[:, index].astype(np.uint64), _MULTIPLIER)
    hashes = _avalanche(hashes)
    hashes[hashes == 0] = 1  # 0 means "no id"
    return hashes


def _avalanche(hashes: np.ndarray) -> np.ndarray:
    """Spread every input bit over all 64 (the finalizer of MurmurHash3)."""
    hashes = hashes ^ (hashes >> np.uint64(33))
    hashes = _wrapping_multiply(hashes, _MIXERS[0])
    hashes = hashes ^ (hashes >> np.uint64(33))
    hashes = _wrapping_multiply(hashes, _MIXERS[1])
    return hashes ^ (hashes >> np.uint64(33))
