"""Celery task of the anomaly monitor: one tenant's monitors run over the days before today."""

from __future__ import annotations

from datetime import date

from insights.anomalies.run import detect_anomalies
from portal.core.tasks import tenant_task


@tenant_task(name="insights.tasks.detect_anomalies", acks_late=True)
def detect_anomalies_task(schema_name: str, today: str | None = None) -> int:
    """Run the tenant's active monitors (as of `today`, an ISO date; default the current
    day); the number of new or extended anomalies. Safe to retry: a run over the same
    data changes nothing."""
    found = detect_anomalies(date.fromisoformat(today) if today else None)
    return len(found)
