"""Timestamps and billing periods.

Output timestamps are ISO 8601 in UTC, `YYYY-MM-DDTHH:MM:SSZ` (with `.ffffff` only when a
fraction of a second was given), which PostgreSQL reads as UTC whatever the session time
zone; dates are `YYYY-MM-DD`. A column already in that form is checked with one strict
pyarrow cast and kept as written; any other form is parsed in Python on its distinct
values only (a month has a few hundred distinct hours).

A billing period must start between 2000-01 and twelve months after the current one (a
typo such as 0001-01 or 2206-01 would otherwise be stored as a month of its own); a row
outside rejects, its money counted as rejected under the period it names. Charge periods
must lie within their billing period, so the same range holds for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.normalize.common import (
    Cache,
    Distinct,
    IssueLog,
    lengths,
    offsets,
    valid_mask,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_PERIOD = date(2000, 1, 1)
MONTHS_AHEAD = 12
_MICROSECOND = timedelta(microseconds=1)
_DAY = 86_400_000_000
OK, NO_ZONE, DATE_ONLY, INVALID = 0, 1, 2, 3
_NOTES = {
    NO_ZONE: "a timestamp without time zone is read as UTC",
    DATE_ONLY: "a date without time is read as 00:00:00 UTC",
}


def _parse(text: str) -> tuple[str | None, int, int]:
    """(canonical text, microseconds since the epoch, status)."""
    stripped = text.strip()
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        return None, 0, INVALID
    status = OK
    if moment.tzinfo is None:
        status = NO_ZONE if len(stripped) > 10 else DATE_ONLY
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    shown = moment.strftime("%Y-%m-%dT%H:%M:%S")
    shown += f".{moment.microsecond:06d}Z" if moment.microsecond else "Z"
    return shown, (moment - _EPOCH) // _MICROSECOND, status


def timestamp_cache() -> Cache:
    return Cache(_parse)


@dataclass
class Timestamps:
    source: pa.Array  # as written in the file
    text: pa.Array  # canonical UTC text, null when missing or invalid
    micros: np.ndarray  # int64 microseconds since the epoch (0 where not valid)
    valid: np.ndarray

    @property
    def date(self) -> pa.Array:
        return pc.utf8_slice_codeunits(self.text, 0, 10)

    @property
    def midnight(self) -> np.ndarray:
        return self.micros % _DAY == 0

    @property
    def month_start(self) -> np.ndarray:
        days = (self.micros // _DAY).astype("datetime64[D]")
        return self.midnight & (days.astype("datetime64[M]").astype("datetime64[D]") == days)


def _canonical(values: pa.Array) -> np.ndarray | None:
    """Microseconds if every value is `YYYY-MM-DDTHH:MM:SSZ` and a real moment, else None."""
    present = valid_mask(values)
    starts = offsets(values)[:-1][present]
    if not (lengths(values)[present] == 20).all():
        return None
    if starts.size:
        raw = np.frombuffer(values.buffers()[2], dtype=np.uint8)
        if not ((raw[starts + 10] == ord("T")) & (raw[starts + 19] == ord("Z"))).all():
            return None
    try:
        seconds = pc.cast(values, pa.timestamp("s", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    as_int = seconds.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return np.asarray(as_int, dtype=np.int64) * 1_000_000


def parse_timestamps(values: pa.Array, column: str, log: IssueLog, cache: Cache) -> Timestamps:
    """Read ISO 8601 timestamps; unparseable ones reject their row, zone-less ones are UTC."""
    micros = _canonical(values)
    if micros is not None:
        return Timestamps(values, values, micros, valid_mask(values))
    distinct = Distinct(values)
    results = [cache(value) for value in distinct.values]
    status = distinct.rows([r[2] for r in results], OK, np.int8)
    present = valid_mask(values)
    for code, message in _NOTES.items():
        log.interpret(column, present & (status == code), values, message)
    invalid = present & (status == INVALID)
    log.reject(column, invalid, values, f"{column} is not a date and time")
    micros = distinct.rows([r[1] for r in results], 0, np.int64)
    text = distinct.strings([r[0] for r in results])
    return Timestamps(values, text, micros, present & ~invalid)


@dataclass
class Period:
    """The four timestamps of a line item and the names of their columns."""

    start: Timestamps
    end: Timestamps
    charge_start: Timestamps
    charge_end: Timestamps
    names: tuple[str, ...]


def last_period(today: date | None = None, *, after: int = 0) -> date:
    """The latest billing period start a bill may have, twelve months after this one
    (`after` months later still)."""
    today = today or datetime.now(UTC).date()
    months = today.year * 12 + today.month - 1 + MONTHS_AHEAD + after
    return date(months // 12, months % 12 + 1, 1)


def _micros(day: date) -> int:
    return (datetime(day.year, day.month, day.day, tzinfo=UTC) - _EPOCH) // _MICROSECOND


def check_period(period: Period, log: IssueLog) -> None:
    """Reject rows whose billing period is not a month-aligned range holding the charge,
    or starts outside the months a bill can be for."""
    start_name, end_name, charge_start_name, charge_end_name = period.names
    start, end = period.start, period.end
    charge_start, charge_end = period.charge_start, period.charge_end
    latest, end_by = last_period(), last_period(after=1)
    out_of_range = start.valid & (
        (start.micros < _micros(FIRST_PERIOD)) | (start.micros > _micros(latest))
    )
    log.reject(
        start_name,
        out_of_range,
        start.source,
        f"{start_name} is outside the billing periods a bill can have "
        f"({FIRST_PERIOD:%Y-%m} to {latest:%Y-%m})",
    )
    log.reject(
        end_name,
        end.valid & ~out_of_range & (end.micros > _micros(end_by)),
        end.source,
        f"{end_name} is after the end of the last billing period a bill can have ({end_by})",
    )
    log.reject(
        start_name,
        start.valid & ~start.month_start,
        start.source,
        f"{start_name} is not 00:00 UTC on the first day of a month",
    )
    log.reject(end_name, end.valid & ~end.midnight, end.source, f"{end_name} is not at 00:00 UTC")
    both = start.valid & end.valid
    log.reject(
        end_name,
        both & (end.micros <= start.micros),
        end.source,
        f"{end_name} is not after {start_name}",
    )

    def outside(which: str, where: str) -> Callable[[str, int], str]:
        def message(_value: str, i: int) -> str:
            shown = f"{start.text[i].as_py()} to {end.text[i].as_py()}"
            return f"{which} is {where} the billing period {shown}"

        return message

    log.reject(
        charge_start_name,
        start.valid & charge_start.valid & (charge_start.micros < start.micros),
        charge_start.source,
        outside(charge_start_name, "before"),
    )
    log.reject(
        charge_end_name,
        end.valid & charge_end.valid & (charge_end.micros > end.micros),
        charge_end.source,
        outside(charge_end_name, "after"),
    )
    log.reject(
        charge_end_name,
        charge_start.valid & charge_end.valid & (charge_end.micros < charge_start.micros),
        charge_end.source,
        f"{charge_end_name} is before {charge_start_name}",
    )


def period_columns(
    stamps: list[Timestamps], names: tuple[str, ...], log: IssueLog, out: dict[str, Any]
) -> Period:
    """Check the four timestamps (billing period start and end, charge period start and
    end) as a period and put them into the store's columns in `out`."""
    period = Period(stamps[0], stamps[1], stamps[2], stamps[3], names)
    check_period(period, log)
    out["billing_period_start"] = period.start.date
    out["billing_period_end"] = period.end.date
    out["charge_period_start"] = period.charge_start.text
    out["charge_period_end"] = period.charge_end.text
    return period
