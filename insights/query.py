"""What the cost explorer is asked, and what it answers.

A `CostQuery` is read from request parameters (`parse_cost_query`), from a page's form or
built in code (home pages, later insights); `insights.selectors.cost_explorer` answers it
with a `CostAnswer`. Amounts are exact `Decimal`s: rounding happens at display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from portal.core.errors import ApplicationError

GRANULARITIES = ("daily", "monthly")
METRICS = ("billed_cost", "effective_cost", "list_cost", "resale", "margin")
METRIC_LABELS = {
    "billed_cost": "Billed cost (unblended)",
    "effective_cost": "Effective cost (amortized)",
    "list_cost": "List cost",
    "resale": "Resale",
    "margin": "Margin",
}
# Dimensions of the bill; "tag:<key>" and "category:<name>" are the open-ended ones.
BILL_DIMENSIONS = (
    "service",
    "account",
    "payer",
    "organization",
    "region",
    "charge_category",
    "usage_type",
)
DIMENSIONS = (*BILL_DIMENSIONS, "team", "end_customer")
DIMENSION_LABELS = {
    "service": "Service",
    "account": "Account",
    "payer": "Payer of record",
    "organization": "Organization",
    "region": "Region",
    "charge_category": "Charge category",
    "usage_type": "Usage type",
    "team": "Team",
    "end_customer": "End customer",
}
MAX_GROUP_BY = 3
MAX_PERIOD_DAYS = 3 * 366
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
OTHERS = "Others"
# How a group without a value (an untagged cost, a cost of no team) is named.
NO_VALUE = "(none)"


@dataclass(frozen=True)
class CostQuery:
    start: date
    end: date  # exclusive
    granularity: str = "daily"
    metric: str = "billed_cost"
    group_by: tuple[str, ...] = ()
    # (dimension, values): a cost must match one value of every include, none of any exclude.
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    excludes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    limit: int = DEFAULT_LIMIT

    @property
    def previous(self) -> tuple[date, date]:
        """The period of equal length just before: whole months if `start` is a 1st."""
        if self.start.day == 1:
            months = _months_between(self.start, self.end)
            return add_months(self.start, -months), add_months(self.end, -months)
        return self.start - (self.end - self.start), self.start

    def dates(self) -> list[date]:
        """The series' dates: every day, or the first day of every month, of the period."""
        if self.granularity == "monthly":
            out, month = [], self.start.replace(day=1)
            while month < self.end:
                out.append(month)
                month = add_months(month, 1)
            return out
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days)]

    def dimensions_used(self) -> set[str]:
        used = set(self.group_by)
        used.update(dimension for dimension, _ in self.filters)
        used.update(dimension for dimension, _ in self.excludes)
        return used


@dataclass
class Point:
    date: date
    amount: Decimal


class PeriodChange:
    """The change of a `total` against its `previous_total`, in money and percent."""

    total: Decimal
    previous_total: Decimal

    @property
    def change(self) -> Decimal:
        return self.total - self.previous_total

    @property
    def change_percent(self) -> Decimal | None:
        """In percent of the previous period's; None when that was zero."""
        if not self.previous_total:
            return None
        return (self.change * 100 / abs(self.previous_total)).quantize(Decimal("0.01"))


@dataclass
class CostGroup(PeriodChange):
    keys: tuple[str, ...]  # one value per group-by dimension; `Others` in each for the rest
    total: Decimal
    previous_total: Decimal
    series: list[Point] = field(default_factory=list)

    @property
    def key(self) -> str:
        if self.is_others:
            return OTHERS
        return " / ".join(self.keys) if self.keys else "Total"

    @property
    def is_others(self) -> bool:
        return bool(self.keys) and all(key == OTHERS for key in self.keys)


@dataclass
class CostAnswer(PeriodChange):
    query: CostQuery
    currency: str
    total: Decimal
    previous_total: Decimal
    groups: list[CostGroup]
    # Dimensions and filters imposed by the asker's scope (a billing view's criteria,
    # an end customer's accounts), for pages to show as locked.
    locked_filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months; only used with first days of months or clamps to 28+."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _month_length(year, month + 1)
    return date(year, month + 1, min(day.day, last))


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _months_between(start: date, end: date) -> int:
    """Whole months from `start` (a 1st) to the first 1st on or after `end`."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(1, months + (1 if end.day > 1 else 0))


def month_to_date(today: date) -> tuple[date, date]:
    """This month from its 1st up to and including today (end exclusive)."""
    return today.replace(day=1), today + timedelta(days=1)


def is_known_dimension(name: str) -> bool:
    if name.startswith("tag:"):
        return len(name) > 4
    if name.startswith("category:"):
        return len(name) > 9
    return name in DIMENSIONS


def dimension_label(name: str) -> str:
    if name.startswith("tag:"):
        return f"Tag {name[4:]}"
    if name.startswith("category:"):
        return name[9:]
    return DIMENSION_LABELS.get(name, name)


def parse_cost_query(params: Mapping[str, Sequence[str]], *, today: date) -> CostQuery:
    """A query from request parameters (lists per name, as in a QueryDict's `lists()`).

    Raises ApplicationError naming the parameter at fault.
    """

    def one(name: str) -> str | None:
        values = params.get(name) or []
        return values[-1].strip() if values and values[-1].strip() else None

    default_start, default_end = month_to_date(today)
    start = _parse_date(one("start"), "start") or default_start
    end = _parse_date(one("end"), "end") or (default_end if start == default_start else None)
    if end is None:
        end = add_months(start.replace(day=1), 1) if start.day == 1 else start + timedelta(30)
    if end <= start:
        raise ApplicationError(
            "end must be after start (end is exclusive).", code="invalid", field="end"
        )
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ApplicationError(
            f"The period from {start} to {end} is longer than 3 years; ask for less.",
            code="invalid",
            field="end",
        )
    granularity = one("granularity") or "daily"
    if granularity not in GRANULARITIES:
        raise _choice_error("granularity", granularity, GRANULARITIES)
    metric = one("metric") or "billed_cost"
    if metric not in METRICS:
        raise _choice_error("metric", metric, METRICS)
    group_by = tuple(
        part.strip()
        for value in params.get("group_by") or []
        for part in value.split(",")
        if part.strip()
    )
    if len(group_by) > MAX_GROUP_BY:
        raise ApplicationError(
            f"group_by takes at most {MAX_GROUP_BY} dimensions; {len(group_by)} were given.",
            code="invalid",
            field="group_by",
        )
    for dimension in group_by:
        _check_dimension(dimension, "group_by")
    if len(set(group_by)) != len(group_by):
        raise ApplicationError(
            "group_by names a dimension twice.", code="invalid", field="group_by"
        )
    return CostQuery(
        start=start,
        end=end,
        granularity=granularity,
        metric=metric,
        group_by=group_by,
        filters=_parse_filters(params.get("filter") or [], "filter"),
        excludes=_parse_filters(params.get("exclude") or [], "exclude"),
        limit=_parse_limit(one("limit")),
    )


def _parse_date(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApplicationError(
            f"{name} must be a date as YYYY-MM-DD; {text[:40]!r} is not.",
            code="invalid",
            field=name,
        ) from None


def _parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ApplicationError(
            f"limit must be a whole number from 1 to {MAX_LIMIT}; {text[:40]!r} is not.",
            code="invalid",
            field="limit",
        )
    return int(text)


def _parse_filters(values: Sequence[str], name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`service:AmazonEC2` items; several items (or `a|b` values) of one dimension are ORed."""
    merged: dict[str, list[str]] = {}
    for item in values:
        dimension, sep, value = _split_filter(item)
        if not sep:
            raise ApplicationError(
                f"{name} takes dimension:value, e.g. service:AmazonEC2; {item[:60]!r} is not.",
                code="invalid",
                field=name,
            )
        _check_dimension(dimension, name)
        merged.setdefault(dimension, []).append(value)
    return tuple((dimension, tuple(dict.fromkeys(vals))) for dimension, vals in merged.items())


def _split_filter(item: str) -> tuple[str, str, str]:
    """`service:X` at the first colon; `tag:<key>:<value>` at the last colon, or at `=`
    (`tag:aws:createdBy=alice`) when the key itself holds a colon."""
    if item.startswith(("tag:", "category:")):
        prefix, _, rest = item.partition(":")
        key, sep, value = rest.partition("=") if "=" in rest else rest.rpartition(":")
        return f"{prefix}:{key}", sep, value
    return item.partition(":")


def _check_dimension(dimension: str, name: str) -> None:
    if not is_known_dimension(dimension):
        known = ", ".join((*DIMENSIONS, "tag:<key>", "category:<name>"))
        raise ApplicationError(
            f"{name}: {dimension[:60]!r} is not a dimension; use one of {known}.",
            code="invalid",
            field=name,
        )


def _choice_error(name: str, value: str, choices: Sequence[str]) -> ApplicationError:
    return ApplicationError(
        f"{name} must be one of {', '.join(choices)}; {value[:40]!r} is not.",
        code="invalid",
        field=name,
    )
