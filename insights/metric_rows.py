"""Reading an upload of business metrics, without the database: CSV (`date,team,metric,value`)
or JSON items with the same four fields, checked row by row against the teams one may name.

Every row at fault is named by its line (CSV, the header is line 1) or item (JSON, from 1)
and its field; the caller stores nothing when any row is refused.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billing.models import Team
from portal.core.errors import ApplicationError
from portal.core.fields import checked_decimal

HEADER = ("date", "team", "metric", "value")
FIELDS_TEXT = "date, team, metric and value"
MAX_LISTED = 20
MAX_ROWS = 100_000
METRIC_PATTERN = re.compile(r"[A-Za-z0-9_\- ]{1,64}")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
VALUE_DIGITS, VALUE_PLACES = 24, 6  # BusinessMetric.value's column

Refuse = Callable[[str, str], None]


@dataclass(frozen=True)
class RowError:
    line: int  # the CSV line (1 is the header) or the JSON item (from 1)
    field: str | None
    message: str
    unit: str = "line"

    @property
    def text(self) -> str:
        where = f"{self.unit} {self.line}"
        if self.field:
            return f"{where}, {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.text}


class MetricsRefused(ApplicationError):
    """An upload refused as a whole, with every row at fault (the first MAX_LISTED listed)."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        listed = "; ".join(error.text for error in errors[:MAX_LISTED])
        more = len(errors) - MAX_LISTED
        rest = f"; and {more} more" if more > 0 else ""
        rows = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
        super().__init__(f"Nothing was stored ({rows}): {listed}{rest}.", code="invalid_rows")

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(super().as_dict())
        body["errors"] = [error.as_dict() for error in self.errors[:MAX_LISTED]]
        body["error_count"] = len(self.errors)
        return body


@dataclass(frozen=True)
class RawRow:
    """One row as given: its four fields as sent (None when absent)."""

    line: int
    fields: dict[str, Any]
    unit: str = "line"


@dataclass(frozen=True)
class MetricRow:
    line: int
    team: Team
    metric: str
    day: date
    value: Decimal


def example_csv(team_name: str) -> str:
    """A short file in the upload's format, for `team_name`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerow(["2026-03-01", team_name, "orders", "1520"])
    writer.writerow(["2026-03-02", team_name, "orders", "1611"])
    writer.writerow(["2026-03-01", team_name, "active_users", "8400"])
    return out.getvalue()


# Reading --------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[RawRow]:
    """The rows of a CSV upload, or MetricsRefused naming the lines that cannot be read."""
    if not data.strip():
        raise MetricsRefused([RowError(1, None, f"the file is empty; its header is {_header()}")])
    reader = csv.reader(io.StringIO(_utf8(data), newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise MetricsRefused([RowError(1, "header", str(exc))]) from None
    rows = _rows(reader, _columns(header))
    if not rows:
        raise MetricsRefused([RowError(1, None, "the file has its header but no rows")])
    return rows


def _rows(reader: Any, columns: list[str]) -> list[RawRow]:
    """The rows after the header, each with the line it starts on; blank lines skipped."""
    rows: list[RawRow] = []
    errors: list[RowError] = []
    line = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line + 1, None, f"cannot be read as CSV: {exc}"))
            break
        start, line = line + 1, reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(columns):
            errors.append(
                RowError(start, None, f"has {len(fields)} fields; the header has {len(columns)}")
            )
            continue
        rows.append(RawRow(start, dict(zip(columns, fields, strict=True))))
        if len(rows) > MAX_ROWS:
            raise MetricsRefused([RowError(start, None, _too_many())])
    if errors:
        raise MetricsRefused(errors)
    return rows


def _header() -> str:
    return ",".join(HEADER)


def _too_many() -> str:
    return f"an upload takes at most {MAX_ROWS:,} rows; split the file"


def _utf8(data: bytes) -> str:
    """The text of `data`, or MetricsRefused naming each line that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    errors = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = (
                f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at character {exc.start + 1}); "
                "save the file as UTF-8"
            )
            errors.append(RowError(number, None, message))
    raise MetricsRefused(errors)


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    missing = [name for name in HEADER if name not in columns]
    extra = [name for name in columns if name not in HEADER]
    twice = sorted({name for name in columns if name in HEADER and columns.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"lacks {', '.join(missing)}")
    if extra:
        shown = ", ".join(repr(name) if name else "an unnamed column" for name in extra)
        problems.append(f"has columns the upload does not take: {shown}")
    if twice:
        problems.append(f"names {', '.join(twice)} twice")
    if problems:
        message = f"the header {' and '.join(problems)}; it is {_header()}"
        raise MetricsRefused([RowError(1, "header", message)])
    return columns


def read_items(items: Any) -> list[RawRow]:
    """JSON items (one object or a list of them) as rows; items count from 1."""
    listed = items if isinstance(items, list) else [items]
    if not listed:
        raise MetricsRefused([RowError(1, None, "no items were sent", unit="item")])
    if len(listed) > MAX_ROWS:
        raise MetricsRefused([RowError(MAX_ROWS + 1, None, _too_many(), unit="item")])
    rows, errors = [], []
    for number, item in enumerate(listed, start=1):
        if not isinstance(item, dict):
            message = f"is not an object with {FIELDS_TEXT}"
            errors.append(RowError(number, None, message, unit="item"))
            continue
        for key in item:
            if key not in HEADER:
                message = f"is not a field; items have {FIELDS_TEXT}"
                errors.append(RowError(number, str(key)[:60], message, unit="item"))
        rows.append(RawRow(number, {name: item.get(name) for name in HEADER}, unit="item"))
    if errors:
        raise MetricsRefused(errors)
    return rows


# Checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamLookup:
    """The teams a user can name (by id, or by name in any case) and those they may write."""

    by_id: dict[int, Team]
    by_name: dict[str, Team]
    writable: frozenset[int]

    @classmethod
    def of(cls, visible: Iterable[Team], writable: Iterable[int]) -> TeamLookup:
        teams = list(visible)
        return cls(
            by_id={team.pk: team for team in teams},
            by_name={team.name.lower(): team for team in teams},
            writable=frozenset(writable),
        )

    def find(self, text: str) -> Team | None:
        if text.isascii() and text.isdigit() and int(text) in self.by_id:
            return self.by_id[int(text)]
        return self.by_name.get(text.lower())


def check_rows(rows: Iterable[RawRow], teams: TeamLookup) -> list[MetricRow]:
    """The rows as values to store, or MetricsRefused with every row at fault."""
    checked: list[MetricRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, str, date], int] = {}
    for row in rows:
        found, row_errors = _check(row, teams)
        errors += row_errors
        if found is None:
            continue
        key = (found.team.pk, found.metric, found.day)
        if key in seen:
            message = (
                f"{found.team.name} {found.metric} on {found.day} is also on {row.unit} "
                f"{seen[key]}; give each team, metric and day once"
            )
            errors.append(RowError(row.line, None, message, unit=row.unit))
            continue
        seen[key] = row.line
        checked.append(found)
    if errors:
        raise MetricsRefused(errors)
    return checked


def _check(row: RawRow, teams: TeamLookup) -> tuple[MetricRow | None, list[RowError]]:
    errors: list[RowError] = []

    def refuse(field: str, message: str) -> None:
        errors.append(RowError(row.line, field, message, unit=row.unit))

    texts = {name: _text(row.fields.get(name)) for name in HEADER}
    for name, text in texts.items():
        given = row.fields.get(name)
        if text is None:
            missing = given is None or isinstance(given, str)
            refuse(name, "is missing" if missing else "is not text or a number")
    day = None if texts["date"] is None else _day(texts["date"], refuse)
    team = None if texts["team"] is None else _team(texts["team"], teams, refuse)
    metric = None if texts["metric"] is None else _metric(texts["metric"], refuse)
    value = None if texts["value"] is None else _value(texts["value"], refuse)
    if errors or day is None or team is None or metric is None or value is None:
        return None, errors
    return MetricRow(row.line, team, metric, day, value), []


def _text(value: Any) -> str | None:
    """A field as stripped text (numbers as JSON gave them); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return str(value).strip() or None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else f"{text[:57]}...")


def _day(text: str, refuse: Refuse) -> date | None:
    if DATE_PATTERN.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    refuse("date", f"{_shown(text)} is not a date as YYYY-MM-DD")
    return None


def _team(text: str, teams: TeamLookup, refuse: Refuse) -> Team | None:
    team = teams.find(text)
    if team is None:
        refuse("team", f"{_shown(text)} is not a team you can see")
    elif team.pk not in teams.writable:
        refuse("team", f"you do not lead {team.name}; its leads and admins upload its metrics")
    else:
        return team
    return None


def _metric(text: str, refuse: Refuse) -> str | None:
    if METRIC_PATTERN.fullmatch(text):
        return text
    refuse(
        "metric",
        f"{_shown(text)} is not a metric name: letters, digits, _, - and spaces, at most 64",
    )
    return None


def _value(text: str, refuse: Refuse) -> Decimal | None:
    try:
        value = checked_decimal(text, max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    except ValueError as exc:
        reason = str(exc)
        if "not a decimal number" in reason:
            hint = "; write it without thousands separators" if "," in text else ""
            reason = f"{_shown(text)} is not a number{hint}"
        elif "not a finite number" in reason:
            reason = f"{_shown(text)} is not a finite number"
        refuse("value", reason)
        return None
    if value < 0:
        refuse("value", f"{text} is negative; a metric counts something, from 0")
        return None
    return value + 0  # -0 as 0
