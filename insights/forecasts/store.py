"""Stored forecasts: every series' daily and monthly forecast with its backtest, computed
nightly and after each ingest, kept until the next computation replaces them."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from insights.forecasts.batch import Outlook, outlooks
from insights.forecasts.engine import Forecast, Point
from insights.forecasts.histories import History, histories_read
from insights.models import StoredForecast
from portal.audit.services import audit_record

METRIC = "billed_cost"
UPDATED_FIELDS = [
    "label",
    "team",
    "currency",
    "method",
    "history_from",
    "history_to",
    "points",
    "mape",
    "backtest_note",
    "reason",
    "computed_at",
]


def forecasts_compute(today: date | None = None) -> list[StoredForecast]:
    """Forecast the tenant, each team, billing unit and service from the 36 months before
    `today` (by default today), daily and monthly; store them in place of the previous
    ones, drop those of series gone since, and record one audit entry."""
    today = today or timezone.localdate()
    read = histories_read(today)
    fitted = [history for history in read.series if not history.reason]
    answers = iter(outlooks([h.days for h in fitted], [h.last_day for h in fitted]))
    rows: list[StoredForecast] = []
    for history in read.series:
        if history.reason:
            rows += [_refused(history, frequency, read.currency) for frequency in FREQUENCIES]
            continue
        found = next(answers)
        rows += [_row(history, answer, read.currency) for answer in (found.daily, found.monthly)]
    return _store(rows, read.last_day)


FREQUENCIES = ("daily", "monthly")


def _base(history: History, frequency: str, currency: str) -> StoredForecast:
    days = [day for day, _ in history.days]
    return StoredForecast(
        scope=history.scope,
        key=history.key,
        label=history.label,
        team_id=history.team_id,
        frequency=frequency,
        metric=METRIC,
        currency=currency,
        history_from=min(days) if days else None,
        history_to=history.last_day if days else None,
    )


def _refused(history: History, frequency: str, currency: str) -> StoredForecast:
    row = _base(history, frequency, currency)
    row.reason = history.reason
    return row


def _row(history: History, outlook: Outlook, currency: str) -> StoredForecast:
    row = _base(history, outlook.frequency, currency)
    row.backtest_note = outlook.note[:500]
    result = outlook.result
    if not isinstance(result, Forecast):
        row.reason = result.reason[:500]
        return row
    row.method = result.method
    row.history_from, row.history_to = result.history_from, result.history_to
    row.points = [_point(point) for point in result.points]
    row.mape = result.mape
    return row


def _point(point: Point) -> dict[str, str]:
    return {
        "date": point.date.isoformat(),
        "expected": str(point.expected),
        "lower80": str(point.lower80),
        "upper80": str(point.upper80),
        "lower95": str(point.lower95),
        "upper95": str(point.upper95),
    }


@transaction.atomic
def _store(rows: list[StoredForecast], last_day: date) -> list[StoredForecast]:
    with connection.cursor() as cursor:
        # Two computations of one tenant at once store one after the other.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('forecasts:' || current_schema()))")
    for row in rows:
        # The team is one just read: checking it again would cost a query a row.
        row.full_clean(exclude=["team"], validate_unique=False, validate_constraints=False)
    stored = StoredForecast.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["scope", "key", "frequency", "metric"],
        update_fields=UPDATED_FIELDS,
    )
    removed, _ = (
        StoredForecast.objects.filter(metric=METRIC)
        .exclude(pk__in=[row.pk for row in stored])
        .delete()
    )
    with_points = sum(1 for row in stored if row.points)
    tenant = next(row for row in stored if row.scope == "tenant" and row.frequency == "daily")
    audit_record(
        actor=None,
        action="forecast.compute",
        instance=tenant,
        after=_counts(stored, with_points, removed, last_day),
        actor_name="forecast computation",
    )
    return stored


def _counts(
    stored: list[StoredForecast], with_points: int, removed: int, last_day: date
) -> dict[str, Any]:
    by_scope: dict[str, int] = {}
    for row in stored:
        if row.frequency == "daily":
            by_scope[row.scope] = by_scope.get(row.scope, 0) + 1
    mapes = sorted(row.mape for row in stored if row.mape is not None)
    return {
        "series": by_scope,
        "forecasts": with_points,
        "without_forecast": len(stored) - with_points,
        "removed": removed,
        "history_to": last_day.isoformat(),
        "median_mape": str(mapes[len(mapes) // 2]) if mapes else None,
    }
