"""What a budget alert and an anomaly notification say, and which anomalies are worth one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection as default_connection

from billing.services.customers import team_create
from insights.budgets.services import budget_create
from insights.models import Anomaly, AnomalyMonitor, BudgetAlert, NotificationDelivery
from insights.notifications import tasks
from insights.notifications.messages import site_url
from insights.notifications.payloads import (
    anomaly_payload,
    budget_alert_payload,
    notify_anomalies,
    notify_budget_alerts,
)
from insights.notifications.services import endpoint_create
from portal.tenants.models import Tenant

D = Decimal
connection: Any = default_connection


@pytest.fixture
def inbox(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """An e-mail endpoint for every event; queued sends are run at once."""
    endpoint_create(actor=None, name="Finance", kind="email", target="fin@example.com")
    monkeypatch.setattr(
        tasks.send_notification,
        "delay",
        lambda schema, pk: tasks.send_notification(schema, pk),
    )
    mail.outbox.clear()
    return mail.outbox


def alert(tenant_a: Tenant) -> BudgetAlert:
    web = team_create(actor=None, name="Web")
    budget = budget_create(
        actor=None,
        name="Web monthly",
        scope="team",
        team=web,
        amount=D("10000"),
        thresholds=[{"kind": "percent", "value": "90", "basis": "actual"}],
    )
    return BudgetAlert.objects.create(
        threshold=budget.thresholds.get(),
        period_start=date(2026, 2, 1),
        budget_amount=D("10000.00"),
        actual=D("9123.4567"),
        forecast=D("12345.675"),
        currency="USD",
    )


def test_a_budget_alert_says_which_budget_which_threshold_and_its_figures(
    tenant_a: Tenant, inbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    fired = alert(tenant_a)
    payload = budget_alert_payload(fired)
    assert payload["budget"] == "Web monthly" and payload["scope"] == "team Web"
    assert payload["period"] == "monthly"
    assert (payload["period_start"], payload["period_end"]) == ("2026-02-01", "2026-02-28")
    assert payload["threshold"] == "90 % of actual spend"
    assert payload["threshold_amount"] == "9000.00"
    assert payload["budget_amount"] == "10000.00"
    assert (payload["actual"], payload["forecast"]) == ("9123.46", "12345.68")
    assert (payload["percent"], payload["forecast_percent"]) == ("91.2", "123.5")
    assert payload["currency"] == "USD"
    assert payload["link"] == f"/budgets/{fired.threshold.budget_id}/"

    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = notify_budget_alerts([fired])
    assert notify_budget_alerts([fired]) == []  # the next check's repeat sends nothing
    [message] = inbox
    assert message.subject == (
        "Budget Web monthly: 90 % of actual spend crossed (actual 9,123.46 USD of 10,000.00 USD)"
    )
    assert "Actual:    9,123.46 USD (91.2 %)" in message.body
    assert "Forecast:  12,345.68 USD (123.5 %)" in message.body
    assert "Period:    2026-02-01 to 2026-02-28" in message.body
    assert f"https://alpha.test.localhost/budgets/{fired.threshold.budget_id}/" in message.body
    delivery.refresh_from_db()
    assert delivery.status == NotificationDelivery.Status.DELIVERED
    assert delivery.subject_key == f"budget_alert:{fired.pk}"


def anomaly(impact: str, percent: str | None, **extra: Any) -> Anomaly:
    monitor = AnomalyMonitor.objects.get()
    expected = D("500")
    fields: dict[str, Any] = {"key": "Amazon EC2", "label": "Amazon EC2", **extra}
    return Anomaly.objects.create(
        monitor=monitor,
        dimension="service",
        start_date=date(2026, 2, 3),
        end_date=date(2026, 2, 5),
        expected=expected,
        actual=expected + D(impact),
        impact=D(impact),
        impact_percent=None if percent is None else D(percent),
        currency="USD",
        **fields,
    )


def test_an_anomaly_says_where_when_how_much_and_why(
    tenant_a: Tenant, inbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    def cause(dimension: str, value: str, impact: str, share: str) -> dict[str, str]:
        return {"dimension": dimension, "value": value, "label": value, "impact": impact,
                "share": share}  # fmt: skip

    causes = [
        cause("service", "Amazon EC2", "1225.5", "100.0"),
        cause("region", "us-east-1", "1185.5", "96.7"),
        cause("region", "eu-west-1", "40", "3.3"),
        cause("usage_type", "BoxUsage:p4d", "1000", "81.6"),
        cause("usage_type", "BoxUsage:m5", "225.5", "18.4"),
    ]
    found = anomaly("1225.5", "245.1", root_causes=causes)
    payload = anomaly_payload(found)
    assert payload["dimension"] == "service" and payload["label"] == "Amazon EC2"
    assert (payload["start_date"], payload["end_date"]) == ("2026-02-03", "2026-02-05")
    assert (payload["expected"], payload["actual"]) == ("500.00", "1725.50")
    assert (payload["impact"], payload["impact_percent"]) == ("1225.50", "245.1")
    # Each dimension's contributors of 10 % or more of the impact, largest first.
    assert [(c["dimension"], c["value"], c["share"]) for c in payload["root_causes"]] == [
        ("service", "Amazon EC2", "100.0"),
        ("region", "us-east-1", "96.7"),
        ("usage_type", "BoxUsage:p4d", "81.6"),
        ("usage_type", "BoxUsage:m5", "18.4"),
    ]
    assert payload["link"] == f"/anomalies/{found.pk}/"

    monitor = AnomalyMonitor.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = notify_anomalies([found], monitor)
    [message] = inbox
    assert message.subject == (
        "Cost anomaly: Service Amazon EC2 from 2026-02-03, 1,225.50 USD above expected (+245.1 %)"
    )
    assert "Impact:   +1,225.50 USD (245.1 % above expected)" in message.body
    assert "region us-east-1: +1,185.50 USD (96.7 % of the impact)" in message.body
    assert "usage type BoxUsage:m5: +225.50 USD (18.4 % of the impact)" in message.body
    found.refresh_from_db()
    assert found.notified_at is not None
    assert delivery.subject_key == f"anomaly:{found.pk}"


def test_only_anomalies_past_the_monitors_impact_and_percent_are_notified(
    tenant_a: Tenant, inbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    monitor = AnomalyMonitor.objects.get()
    monitor.notify_min_impact, monitor.notify_min_percent = D("100"), D("20")
    small = anomaly("99.99", "50")
    slight = anomaly("5000", "19.9", key="Amazon S3", label="Amazon S3")
    both = anomaly("100", "20", key="AWS Lambda", label="AWS Lambda")
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify_anomalies([small, slight, both], monitor)
    assert [d.subject_key for d in sent] == [f"anomaly:{both.pk}"]
    assert len(inbox) == 1
    small.refresh_from_db()
    assert small.notified_at is None


def test_links_carry_the_sites_port_when_it_is_not_the_schemes_own(
    tenant_a: Any, settings: Any
) -> None:
    settings.HTTPS, settings.SITE_PORT = False, "8000"
    assert site_url("/budgets/3/") == "http://alpha.test.localhost:8000/budgets/3/"
    settings.HTTPS, settings.SITE_PORT = True, ""
    assert site_url("/budgets/3/") == "https://alpha.test.localhost/budgets/3/"


def test_an_anomaly_from_nothing_says_it_is_a_new_cost(
    tenant_a: Tenant, inbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    found = anomaly("20000", None)
    with django_capture_on_commit_callbacks(execute=True):
        notify_anomalies([found], AnomalyMonitor.objects.get())
    [message] = inbox
    assert "(a new cost: next to nothing was expected)" in message.body
    assert "n/a" not in message.body
