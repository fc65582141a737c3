"""Running the anomaly monitor: every series of the tenant judged, anomalies recorded.

An anomaly is one row per monitor, dimension, key and start day: a run that finds it
again updates it (an anomaly still going on gets its new end), and a run over the same
data changes nothing. Its feedback is kept. Notifying is the caller's: `worth_notifying`
says whether an anomaly passes the monitor's thresholds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from insights.anomalies.detect import Found, Judgement, judge, measure
from insights.anomalies.root_causes import AnomalyDays, root_causes
from insights.anomalies.series import currency, labels, owners, read_exact, read_series, window
from insights.models import ANOMALY_DIMENSIONS, Anomaly, AnomalyMonitor
from portal.audit.services import audit_record

logger = logging.getLogger(__name__)

CHECKED_DAYS = 62  # each run judges the days since about two months ago


@dataclass
class Outcome:
    """What a run did, for its audit entry."""

    series: int = 0
    found: int = 0
    changed: list[Anomaly] = field(default_factory=list)
    created: int = 0
    extended: int = 0


@dataclass(frozen=True)
class Finding:
    dimension: str
    anomaly: Found
    label: str
    root_causes: list[dict[str, Any]]


def worth_notifying(anomaly: Anomaly, monitor: AnomalyMonitor) -> bool:
    """Whether an anomaly passes the monitor's alert thresholds (impact and percent). With
    no percent (nothing or about nothing expected: a new cost) the impact alone decides."""
    if anomaly.impact < monitor.notify_min_impact:
        return False
    return anomaly.impact_percent is None or anomaly.impact_percent >= monitor.notify_min_percent


def detect_anomalies(
    today: date | None = None,
    monitor: AnomalyMonitor | None = None,
    *,
    checked_days: int = CHECKED_DAYS,
) -> list[Anomaly]:
    """Run `monitor` (or every active monitor) over the `checked_days` before `today`;
    the anomalies that are new or go on longer than known."""
    today = today or timezone.localdate()
    monitors = (
        [monitor] if monitor is not None else list(AnomalyMonitor.objects.filter(active=True))
    )
    changed: list[Anomaly] = []
    for each in monitors:
        changed += _run(each, today, checked_days)
    return changed


def _run(monitor: AnomalyMonitor, today: date, checked_days: int) -> list[Anomaly]:
    baseline = monitor.baseline_days
    start, end = window(today, baseline, checked_days)
    outcome = Outcome()
    found: list[Finding] = []
    for dimension in ANOMALY_DIMENSIONS:
        found += _find(monitor, dimension, start, end, outcome)
    money = currency(start, end)
    teams = {d: {o.key: o.team_id for o in owners(d)} for d in ("team", "billing_unit")}
    with transaction.atomic():
        # Runs of one monitor take turns, so that two never record the same anomaly.
        AnomalyMonitor.objects.select_for_update().filter(pk=monitor.pk).exists()
        for finding in found:
            team_id = teams.get(finding.dimension, {}).get(finding.anomaly.key)
            _save(monitor, finding, team_id, money, outcome)
        monitor.last_run_at = timezone.now()
        monitor.save(update_fields=["last_run_at"])
        audit_record(
            actor=None,
            action="anomaly.detect",
            instance=monitor,
            after={
                "days": [f"{start + timedelta(days=baseline)}", f"{end - timedelta(days=1)}"],
                "series": outcome.series,
                "found": outcome.found,
                "new": outcome.created,
                "extended": outcome.extended,
            },
        )
    return outcome.changed


def _find(
    monitor: AnomalyMonitor, dimension: str, start: date, end: date, outcome: Outcome
) -> list[Finding]:
    """The anomalies of one dimension's series, measured exactly, with their causes."""
    baseline = monitor.baseline_days
    series = read_series(dimension, metric=monitor.metric, start=start, end=end)
    outcome.series += len(series.keys)
    judgement = judge(
        series.values,
        start=start,
        baseline_days=baseline,
        sensitivity=float(monitor.sensitivity),
        first=baseline,
    )
    rows = judgement.flagged_rows()
    if not rows:
        return []
    keys = [series.keys[row] for row in rows]
    exact = read_exact(dimension, keys, metric=monitor.metric, start=start, end=end)
    known = _known(monitor, dimension, keys, start)
    labelled = labels(dimension, keys)
    found = []
    for row, key in zip(rows, keys, strict=True):
        for span in _spans(judgement, row, known.get(key, []), start):
            anomaly = measure(
                key,
                exact[key].amounts,
                start=start,
                span=span,
                basis=judgement.basis[row].tolist(),
                first=baseline,
                baseline_days=baseline,
            )
            if not anomaly.fits:
                logger.warning(
                    "anomaly of %s %s too large to record: %s", dimension, key, anomaly.impact
                )
                continue
            days = AnomalyDays(dimension, key, anomaly.baselines, anomaly.impact)
            causes = root_causes(days, metric=monitor.metric)
            found.append(Finding(dimension, anomaly, labelled[key], causes))
    outcome.found += len(found)
    return found


def _known(
    monitor: AnomalyMonitor, dimension: str, keys: list[str], start: date
) -> dict[str, list[tuple[date, date]]]:
    """The recorded anomalies of `keys` that reach into the days read."""
    known: dict[str, list[tuple[date, date]]] = {}
    rows = Anomaly.objects.filter(
        monitor=monitor, dimension=dimension, key__in=keys, end_date__gte=start
    ).values_list("key", "start_date", "end_date")
    for key, first, last in rows:
        known.setdefault(key, []).append((first, last))
    return known


def _spans(
    judgement: Judgement, row: int, known: list[tuple[date, date]], start: date
) -> list[tuple[int, int]]:
    """The series' anomalous spans, each widened back to the start of a recorded anomaly
    it continues (the days checked may begin after it began)."""
    spans = []
    for first, last in judgement.spans(row):
        for known_start, known_end in known:
            begins = (known_start - start).days
            if known_start < start + timedelta(days=first) <= known_end + timedelta(days=1):
                first = max(min(first, begins), 0)
        spans.append((first, last))
    return spans


def _save(
    monitor: AnomalyMonitor, finding: Finding, team_id: int | None, money: str, outcome: Outcome
) -> None:
    found = finding.anomaly
    values: dict[str, Any] = {
        "label": finding.label[:512],
        "team_id": team_id,
        "end_date": found.end,
        # `measure` gave the amounts the columns' places already.
        "expected": found.expected,
        "actual": found.actual,
        "impact": found.impact,
        "impact_percent": found.impact_percent,
        "currency": money,
        "root_causes": finding.root_causes,
        "daily": [
            {
                "date": f"{point.day}",
                "expected": _text(point.expected),
                "actual": _text(point.actual),
            }
            for point in found.daily
        ],
    }
    existing = (
        Anomaly.objects.filter(
            monitor=monitor,
            dimension=finding.dimension,
            key=found.key,
            start_date__lte=found.end,
            end_date__gte=found.start - timedelta(days=1),
        )
        .order_by("start_date")
        .first()
    )
    if existing is None:
        anomaly = Anomaly.objects.create(
            monitor=monitor, dimension=finding.dimension, key=found.key, start_date=found.start,
            **values,
        )  # fmt: skip
        outcome.created += 1
        outcome.changed.append(anomaly)
        return
    if found.start < existing.start_date:
        values["start_date"] = found.start
    extended = found.end > existing.end_date or found.start < existing.start_date
    changes = {name: value for name, value in values.items() if getattr(existing, name) != value}
    if changes:
        for name, value in changes.items():
            setattr(existing, name, value)
        existing.save(update_fields=[*changes, "updated_at"])
    if extended:
        outcome.extended += 1
        outcome.changed.append(existing)


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")
