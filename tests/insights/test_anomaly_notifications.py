"""The nightly run notifies what the monitor found past its alert thresholds, once, even
when an earlier run died before notifying."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import Team
from insights.anomalies import tasks
from insights.anomalies.run import detect_anomalies
from insights.anomalies.tasks import detect_and_notify
from insights.models import Anomaly, AnomalyMonitor, NotificationDelivery
from insights.notifications.services import endpoint_create
from tests.insights.test_anomaly_detection import A2, bill, cost, estate, estate_of

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


def test_a_run_that_died_before_notifying_is_notified_by_the_next(
    estate: dict[str, Team], monkeypatch: Any
) -> None:
    endpoint_create(actor=None, name="FinOps", kind="email", target="finops@example.com")
    AnomalyMonitor.objects.update(notify_min_impact=100, notify_min_percent=50)
    monkeypatch.setattr("insights.notifications.dispatch._queue", lambda delivery: None)
    real = tasks.notify_anomalies
    calls: list[int] = []

    def dies_once(anomalies: list[Anomaly], monitor: AnomalyMonitor) -> Any:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("worker lost")
        return real(anomalies, monitor)

    monkeypatch.setattr(tasks, "notify_anomalies", dies_once)

    with pytest.raises(RuntimeError):
        detect_and_notify(date(2026, 3, 1))
    assert Anomaly.objects.count() == 4 and NotificationDelivery.objects.count() == 0

    retried = detect_and_notify(date(2026, 3, 1))  # the redelivered task: nothing new found

    assert retried == []
    assert NotificationDelivery.objects.count() == 4
    assert not Anomaly.objects.filter(notified_at__isnull=True).exists()
    detect_and_notify(date(2026, 3, 1))
    assert NotificationDelivery.objects.count() == 4  # each once


def test_anomalies_left_unnotified_for_days_or_of_an_inactive_monitor_are_not_sent(
    estate: dict[str, Team], monkeypatch: Any
) -> None:
    endpoint_create(actor=None, name="FinOps", kind="email", target="finops@example.com")
    monkeypatch.setattr("insights.notifications.dispatch._queue", lambda delivery: None)
    AnomalyMonitor.objects.update(notify_min_impact=100, notify_min_percent=50)
    detect_anomalies(date(2026, 3, 1))
    Anomaly.objects.filter(dimension="team").update(updated_at=timezone.now() - timedelta(days=3))

    detect_and_notify(date(2026, 3, 1))

    sent = {a.dimension for a in Anomaly.objects.filter(notified_at__isnull=False)}
    assert sent == {"billing_unit", "account", "service"}
    Anomaly.objects.update(notified_at=None)
    AnomalyMonitor.objects.update(active=False)
    detect_and_notify(date(2026, 3, 1))
    assert NotificationDelivery.objects.count() == 3


def test_a_dormant_service_suddenly_costing_thousands_is_notified_on_its_amount(
    tenant_a: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    # Route 53 in A2: a stray cent on 1 January, nothing since, then 20,000 on 25 February.
    dormant = [
        cost(day, A2, "Amazon Route 53", billed, team="data", usage_type="DNS-Queries")
        for day, billed in ((date(2026, 1, 1), "0.01"), (date(2026, 2, 25), "20000"))
    ]
    estate_of(bill() + dormant, tmp_path, monkeypatch)
    endpoint_create(actor=None, name="FinOps", kind="email", target="finops@example.com")
    monkeypatch.setattr("insights.notifications.dispatch._queue", lambda delivery: None)
    AnomalyMonitor.objects.update(notify_min_impact=1000, notify_min_percent=50)

    detect_and_notify(date(2026, 3, 1))

    route53 = Anomaly.objects.get(dimension="service", key="Amazon Route 53")
    assert route53.impact_percent is None and route53.notified_at is not None
    delivery = NotificationDelivery.objects.get(subject_key=f"anomaly:{route53.pk}")
    assert delivery.subject == (
        "Cost anomaly: Service Amazon Route 53 from 2026-02-25, 20,000.00 USD above expected"
    )
    # The Web spike (300.00) is under the amount gate; Data's team and account are not.
    assert NotificationDelivery.objects.count() == 3
