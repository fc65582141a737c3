"""Typed Parquet columns as the text a CSV would hold, so one normalizer reads both.

Floats become their shortest round-trip text (`0.1`, not `0.1000000000000000055...`):
pyarrow's float -> string cast, whose exponent form (`1.2e-07`) the decimal reader then
expands; a float's binary value is never used. Timestamps become ISO 8601 UTC; those
without a time zone are UTC (the file gets a note). Map columns are left as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.normalize.common import as_array


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    shown = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return shown + (f".{moment.microsecond:06d}Z" if moment.microsecond else "Z")


def timestamps_as_text(values: pa.Array) -> pa.Array:
    encoded = pc.dictionary_encode(values)
    shown = [_iso(moment) for moment in encoded.dictionary.to_pylist()]
    return pa.array(shown, pa.string()).take(encoded.indices)


def as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as strings (map columns unchanged)."""
    values = as_array(values)
    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = values.type
    if pa.types.is_string(kind) or pa.types.is_map(kind):
        return values
    if pa.types.is_timestamp(kind):
        return timestamps_as_text(values)
    return values.cast(pa.string())
