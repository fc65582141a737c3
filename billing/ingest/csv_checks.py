"""Locating what makes a bill file unreadable: a byte that is not UTF-8, a row too long.

Both run only once reading has failed (or found a non-ASCII byte), so they may take the
slow road; they name the row the way issues do (the header is row 1, the first data row 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from billing.ingest.normalize.common import offsets, valid_mask

_SCAN_BYTES = 1 << 20
_QUOTE, _NEWLINE = ord('"'), ord("\n")


@dataclass(frozen=True)
class BadText:
    index: int  # the row's index in the array
    byte: int  # the first byte that is not UTF-8
    text: str  # the value, with that byte shown as U+FFFD


def first_invalid_utf8(values: pa.Array) -> BadText | None:
    """The first value of a string array (read without checks) that is not UTF-8."""
    data = values.buffers()[2]
    if data is None:
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    bounds = offsets(values)
    high = np.flatnonzero(raw[bounds[0] : bounds[-1]] >= 0x80) + bounds[0]
    rows = np.unique(np.searchsorted(bounds, high, side="right") - 1)
    present = valid_mask(values)
    for index in rows.tolist():
        if not present[index]:
            continue
        value = raw[bounds[index] : bounds[index + 1]].tobytes()
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as exc:
            return BadText(index, value[exc.start], value.decode("utf-8", "replace"))
    return None


def first_invalid_utf8_in(values: pa.Array) -> BadText | None:
    """Like `first_invalid_utf8`, for a string column or a map column's keys and values."""
    if pa.types.is_string(values.type):
        return first_invalid_utf8(values)
    if not pa.types.is_map(values.type) or not len(values):
        return None
    bounds = values.offsets.to_numpy()  # into the whole children, whatever the slice
    for child in (values.keys, values.items):
        if not pa.types.is_string(child.type):
            continue
        bad = first_invalid_utf8(child.slice(bounds[0], bounds[-1] - bounds[0]))
        if bad is not None:
            row = int(np.searchsorted(bounds, bounds[0] + bad.index, side="right")) - 1
            return BadText(row, bad.byte, bad.text)
    return None


@dataclass(frozen=True)
class LongRow:
    row: int  # the header is row 1
    offset: int  # byte offset of the row's start (in the uncompressed text)


def find_long_row(open_binary: Callable[[], BinaryIO], limit: int) -> LongRow | None:
    """The first CSV row longer than `limit` bytes, counting rows as a CSV reader does:
    a line break inside double quotes does not end a row."""
    row, start, position, quoted = 1, 0, 0, False
    with open_binary() as handle:
        while block := handle.read(_SCAN_BYTES):
            raw = np.frombuffer(block, dtype=np.uint8)
            marks = np.flatnonzero((raw == _QUOTE) | (raw == _NEWLINE))
            quotes = np.cumsum(raw[marks] == _QUOTE) + quoted  # quotes up to each mark
            ends = marks[(raw[marks] == _NEWLINE) & (quotes % 2 == 0)] + position
            for end in ends.tolist():
                if end - start > limit:
                    return LongRow(row, start)
                row, start = row + 1, end + 1
            if quotes.size:
                quoted = bool(quotes[-1] % 2)
            position += len(block)
            if position - start > limit:
                return LongRow(row, start)
    return None
