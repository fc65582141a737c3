"""The two events the portal sends: a budget threshold crossed and a cost anomaly found.

Each payload carries the figures a person needs to judge it, amounts as exact text rounded
to the currency's minor unit, and the path of the page about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from insights.anomalies.run import worth_notifying
from insights.models import (
    ROOT_CAUSE_DIMENSIONS,
    Anomaly,
    AnomalyMonitor,
    Budget,
    BudgetAlert,
    NotificationDelivery,
)
from insights.notifications.dispatch import notify
from insights.notifications.messages import money
from portal.core.money import minor_unit

TOP_PER_DIMENSION = 3
MIN_SHARE = Decimal(10)
PERCENT = Decimal("0.1")


def _amount(value: Decimal | None, currency: str) -> str | None:
    if value is None:
        return None
    return str(Decimal(value).quantize(minor_unit(currency), rounding=ROUND_HALF_UP))


def _percent(part: Decimal | None, whole: Decimal) -> str | None:
    if part is None or not whole:
        return None
    return str((Decimal(part) * 100 / whole).quantize(PERCENT, rounding=ROUND_HALF_UP))


def _link(name: str, pk: int, fallback: str) -> str:
    """The page's path; the usual one while its page is not mounted."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return fallback


def budget_scope_text(budget: Budget) -> str:
    """What the budget covers, e.g. "team Web" or "cost category value Env = prod"."""
    scope = budget.scope
    if scope == Budget.Scope.TEAM and budget.team is not None:
        return f"team {budget.team.name}"
    if scope == Budget.Scope.BILLING_UNIT and budget.billing_unit is not None:
        return f"billing unit {budget.billing_unit}"
    if scope == Budget.Scope.CATEGORY_VALUE and budget.category is not None:
        return f"cost category value {budget.category.name} = {budget.value}"
    return "whole tenant"


def budget_alert_payload(alert: BudgetAlert) -> dict[str, Any]:
    from insights.budgets.check import limit_of
    from insights.budgets.spend import period_of

    threshold = alert.threshold
    budget = threshold.budget
    currency = alert.currency
    start, end = period_of(budget, alert.period_start)
    return {
        "alert_id": alert.pk,
        "budget_id": budget.pk,
        "budget": budget.name,
        "scope": budget_scope_text(budget),
        "period": budget.get_period_display().lower(),
        "period_start": start.isoformat(),
        "period_end": (end - timedelta(days=1)).isoformat(),
        "threshold": str(threshold),
        "threshold_kind": threshold.kind,
        "threshold_value": format(threshold.value.normalize(), "f"),
        "threshold_basis": threshold.basis,
        "threshold_amount": _amount(limit_of(threshold, alert.budget_amount), currency),
        "budget_amount": _amount(alert.budget_amount, currency),
        "actual": _amount(alert.actual, currency),
        "forecast": _amount(alert.forecast, currency),
        "percent": _percent(alert.actual, alert.budget_amount),
        "forecast_percent": _percent(alert.forecast, alert.budget_amount),
        "currency": currency,
        "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
        "link": _link("budget-detail", budget.pk, f"/budgets/{budget.pk}/"),
    }


def budget_alert_subject(payload: dict[str, Any]) -> str:
    measured = payload["forecast"] if payload["threshold_basis"] == "forecast" else None
    figure = money(measured or payload["actual"], payload["currency"])
    basis = "forecast" if measured else "actual"
    return (
        f"Budget {payload['budget']}: {payload['threshold']} crossed "
        f"({basis} {figure} of {money(payload['budget_amount'], payload['currency'])})"
    )


def _root_causes(anomaly: Anomaly) -> list[dict[str, Any]]:
    """Per service, account, region and usage type, its largest contributors (those with
    at least MIN_SHARE percent of the impact, or the largest one), largest first."""
    causes = [c for c in anomaly.root_causes or [] if isinstance(c, dict)]
    chosen = []
    for dimension in ROOT_CAUSE_DIMENSIONS:
        mine = [c for c in causes if c.get("dimension") == dimension]
        mine.sort(key=lambda c: Decimal(str(c.get("impact") or 0)), reverse=True)
        large = [c for c in mine if Decimal(str(c.get("share") or 0)) >= MIN_SHARE]
        chosen += (large or mine[:1])[:TOP_PER_DIMENSION]
    return [
        {
            "dimension": c.get("dimension"),
            "value": c.get("value"),
            "label": c.get("label") or c.get("value"),
            "impact": _amount(Decimal(str(c.get("impact") or 0)), anomaly.currency),
            "share": None if c.get("share") is None else str(c.get("share")),
        }
        for c in chosen
    ]


def anomaly_payload(anomaly: Anomaly) -> dict[str, Any]:
    currency = anomaly.currency
    percent = anomaly.impact_percent
    return {
        "anomaly_id": anomaly.pk,
        "dimension": anomaly.dimension,
        "dimension_label": anomaly.get_dimension_display(),
        "key": anomaly.key,
        "label": anomaly.label or anomaly.key,
        "team": anomaly.team.name if anomaly.team_id and anomaly.team else None,
        "start_date": anomaly.start_date.isoformat(),
        "end_date": anomaly.end_date.isoformat(),
        "expected": _amount(anomaly.expected, currency),
        "actual": _amount(anomaly.actual, currency),
        "impact": _amount(anomaly.impact, currency),
        "impact_percent": None if percent is None else str(percent),
        "currency": currency,
        "root_causes": _root_causes(anomaly),
        "link": _link("anomaly-detail", anomaly.pk, f"/anomalies/{anomaly.pk}/"),
    }


def anomaly_subject(payload: dict[str, Any]) -> str:
    percent = payload["impact_percent"]
    return (
        f"Cost anomaly: {payload['dimension_label']} {payload['label']} from "
        f"{payload['start_date']}, {money(payload['impact'], payload['currency'])} above "
        f"expected" + (f" (+{percent} %)" if percent is not None else "")
    )


def notify_budget_alerts(alerts: Iterable[Any]) -> list[NotificationDelivery]:
    """Notify each alert fired (BudgetAlert rows, or the budget check's `Fired` results)."""
    made: list[NotificationDelivery] = []
    for item in alerts:
        alert: BudgetAlert = getattr(item, "alert", item)
        payload = budget_alert_payload(alert)
        made += notify(
            "budget.alert", f"budget_alert:{alert.pk}", budget_alert_subject(payload), payload
        )
    return made


def notify_anomalies(
    anomalies: Iterable[Anomaly], monitor: AnomalyMonitor
) -> list[NotificationDelivery]:
    """Notify the anomalies that pass the monitor's gate (`worth_notifying`: impact and
    impact percent at least the monitor's), each once (an anomaly extended by a later run
    is not sent again), and mark them notified."""
    made: list[NotificationDelivery] = []
    now = timezone.now()
    for anomaly in anomalies:
        if not worth_notifying(anomaly, monitor):
            continue
        payload = anomaly_payload(anomaly)
        made += notify(
            "anomaly.detected", f"anomaly:{anomaly.pk}", anomaly_subject(payload), payload
        )
        if anomaly.notified_at is None:
            anomaly.notified_at = now
            Anomaly.objects.filter(pk=anomaly.pk).update(notified_at=now)
    return made
