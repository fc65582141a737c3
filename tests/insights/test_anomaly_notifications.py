"""The nightly run notifies what the monitor found past its alert thresholds, once."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core import mail

from billing.models import Team
from insights.anomalies.tasks import detect_and_notify
from insights.models import AnomalyMonitor, NotificationDelivery
from insights.notifications.services import endpoint_create
from tests.insights.test_anomaly_detection import estate

__all__ = ["estate"]


def test_the_spike_is_mailed_once_and_small_ones_only_recorded(
    estate: dict[str, Team], django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    endpoint_create(actor=None, name="FinOps", kind="email", target="finops@example.com")
    # The spike's impact is 300.00 a series: above 100.00 for the team, not above 500.00.
    AnomalyMonitor.objects.update(notify_min_impact=100, notify_min_percent=50)
    sent: list[int] = []
    monkeypatch.setattr(
        "insights.notifications.dispatch._queue", lambda delivery: sent.append(delivery.pk)
    )

    found = detect_and_notify(date(2026, 3, 1))
    again = detect_and_notify(date(2026, 3, 1))

    assert len(found) == 4 and again == []
    deliveries = NotificationDelivery.objects.order_by("subject_key")
    assert len(deliveries) == 4 and sorted(sent) == sorted(d.pk for d in deliveries)
    assert all(d.event == "anomaly.detected" for d in deliveries)
    assert {a.notified_at is not None for a in found} == {True}

    AnomalyMonitor.objects.update(notify_min_impact=500)
    detect_and_notify(date(2026, 3, 2))  # the same anomaly, no longer worth it: nothing new
    assert NotificationDelivery.objects.count() == 4
    assert mail.outbox == []  # queued to the worker, not sent inline
