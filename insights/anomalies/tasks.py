"""Celery task of the anomaly monitor: one tenant's monitors run over the days before today."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from insights.anomalies.run import detect_anomalies
from insights.models import Anomaly
from insights.notifications.payloads import notify_anomalies
from portal.core.tasks import tenant_task

# Anomalies recorded but not notified this long ago are notified by the next run (a run
# that died between recording and notifying, retried, finds nothing new).
PENDING_DAYS = 2


def detect_and_notify(today: date | None = None) -> list[Anomaly]:
    """Run the monitors, then notify the anomalies past their monitor's alert thresholds
    (each anomaly once, however often it is extended): those new or extended now and those
    of active monitors updated lately and never notified. The new or extended ones."""
    found = detect_anomalies(today)
    pending = Anomaly.objects.filter(
        notified_at__isnull=True,
        updated_at__gte=timezone.now() - timedelta(days=PENDING_DAYS),
        monitor__active=True,
    ).select_related("monitor", "team")
    seen = {anomaly.pk for anomaly in found}
    anomalies = found + [anomaly for anomaly in pending.order_by("pk") if anomaly.pk not in seen]
    by_monitor: dict[int, list[Anomaly]] = {}
    for anomaly in anomalies:
        by_monitor.setdefault(anomaly.monitor_id, []).append(anomaly)
    for mine in by_monitor.values():
        notify_anomalies(mine, mine[0].monitor)
    return found


@tenant_task(name="insights.tasks.detect_anomalies", acks_late=True)
def detect_anomalies_task(schema_name: str, today: str | None = None) -> int:
    """Run the tenant's active monitors (as of `today`, an ISO date; default the current
    day) and notify; the number of new or extended anomalies. Safe to retry: a run over the same
    data changes nothing, and what it recorded but did not notify is notified then."""
    found = detect_and_notify(date.fromisoformat(today) if today else None)
    return len(found)
