"""Checking budgets: each threshold fires at most once per budget period.

The check may run many times a day (after every ingest, on beat) and on two workers at
once; the alert row's unique (threshold, period_start) decides which check fires it:
`INSERT ... ON CONFLICT DO NOTHING` inserts one row, and only the check that inserted it
notifies, in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from insights.budgets.spend import Spend, budget_spend, tenant_reader
from insights.models import Budget, BudgetAlert, BudgetThreshold
from insights.notifications.payloads import notify_budget_alerts
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError

logger = logging.getLogger(__name__)

INSERT_ALERT = f"""
    INSERT INTO {BudgetAlert._meta.db_table}
        (threshold_id, period_start, fired_at, budget_amount, actual, forecast, currency)
    VALUES (%s, %s, now(), %s, %s, %s, %s)
    ON CONFLICT (threshold_id, period_start) DO NOTHING
    RETURNING id
"""


@dataclass(frozen=True)
class Fired:
    alert: BudgetAlert
    spend: Spend


def limit_of(threshold: BudgetThreshold, amount: Decimal) -> Decimal:
    if threshold.kind == "percent":
        return amount * threshold.value / 100
    return threshold.value


def crossed(threshold: BudgetThreshold, spend: Spend) -> bool:
    measured = spend.actual if threshold.basis == "actual" else spend.forecast
    return (
        measured is not None
        and measured > 0
        and measured >= limit_of(threshold, spend.budget_amount)
    )


@transaction.atomic
def budget_check(budget: Budget, today: date, reader: Any = None) -> list[Fired]:
    """Fire the budget's thresholds crossed in the period holding `today`; those fired now."""
    spend = budget_spend(budget, today, reader)
    fired: list[Fired] = []
    for threshold in budget.thresholds.all():
        if not crossed(threshold, spend):
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT_ALERT,
                [
                    threshold.pk,
                    spend.period_start,
                    spend.budget_amount,
                    spend.actual,
                    spend.forecast,
                    spend.currency,
                ],
            )
            row = cursor.fetchone()
        if row is None:
            continue  # fired already in this period
        alert = BudgetAlert.objects.get(pk=row[0])
        audit_record(
            actor=None,
            action="budget.alert",
            instance=budget,
            after={
                "threshold": str(threshold),
                "period_start": spend.period_start.isoformat(),
                "actual": str(spend.actual),
                "forecast": None if spend.forecast is None else str(spend.forecast),
                "budget": str(spend.budget_amount),
            },
            actor_name="budget check",
        )
        fired.append(Fired(alert, spend))
    # In the alert's transaction: an alert is never stored without its deliveries.
    notify_budget_alerts(fired)
    return fired


def budgets_check(today: date) -> list[Fired]:
    """Check every budget of the tenant; one the explorer cannot measure (its filters
    name a category since renamed) is logged and left for the others."""
    fired: list[Fired] = []
    reader = tenant_reader()
    for budget in Budget.objects.select_related("team", "billing_unit__category", "category"):
        try:
            fired.extend(budget_check(budget, today, reader))
        except ApplicationError as error:
            logger.warning("Budget %s (%s) not checked: %s", budget.pk, budget, error)
    return fired
