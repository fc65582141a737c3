"""Celery task of the anomaly monitor: one tenant's monitors run over the days before today."""

from __future__ import annotations

from datetime import date

from insights.anomalies.run import detect_anomalies
from insights.models import Anomaly
from insights.notifications.payloads import notify_anomalies
from portal.core.tasks import tenant_task


def detect_and_notify(today: date | None = None) -> list[Anomaly]:
    """Run the monitors, then notify the anomalies past their monitor's alert thresholds
    (each anomaly once, however often it is extended)."""
    found = detect_anomalies(today)
    for monitor in {anomaly.monitor for anomaly in found}:
        notify_anomalies([a for a in found if a.monitor == monitor], monitor)
    return found


@tenant_task(name="insights.tasks.detect_anomalies", acks_late=True)
def detect_anomalies_task(schema_name: str, today: str | None = None) -> int:
    """Run the tenant's active monitors (as of `today`, an ISO date; default the current
    day) and notify; the number of new or extended anomalies. Safe to retry: a run over the same
    data changes nothing."""
    found = detect_and_notify(date.fromisoformat(today) if today else None)
    return len(found)
