"""Demo monitoring: an e-mail endpoint for the FinOps team (the console backend prints
what it would send), the anomaly monitor's run over the bills loaded, and forecasts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Max, Min

from billing.models import IngestJob, IngestStatus
from insights.anomalies.tasks import detect_and_notify
from insights.forecasts.store import forecasts_compute
from insights.models import AnomalyMonitor, NotificationEndpoint, StoredForecast
from insights.notifications.services import endpoint_create
from portal.demo import data

ENDPOINT = "FinOps team"


def ensure_notification_endpoint(*, actor: Any, made: Any) -> None:
    if not NotificationEndpoint.objects.filter(name=ENDPOINT).exists():
        endpoint_create(
            actor=actor,
            name=ENDPOINT,
            kind=NotificationEndpoint.Kind.EMAIL,
            target=f"finops@{data.EMAIL_DOMAIN}",
        )
        made(f"notification endpoint {ENDPOINT}")


def ensure_anomalies_and_forecasts(*, today: date, made: Any) -> None:
    """The monitor's run, when bills were stored since its last; forecasts, when none
    reads up to yesterday."""
    last_run = AnomalyMonitor.objects.aggregate(last=Min("last_run_at"))["last"]
    stored = IngestJob.objects.filter(status=IngestStatus.SUCCEEDED).aggregate(
        last=Max("finished_at")
    )["last"]
    if last_run is None or (stored is not None and stored > last_run):
        found = detect_and_notify(today)
        if found:
            made(f"{len(found)} anomalies")
    yesterday = today - timedelta(days=1)
    if not StoredForecast.objects.filter(history_to__gte=yesterday).exists():
        made(f"{len(forecasts_compute(today))} forecasts")
