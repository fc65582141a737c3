"""Demo budgets: the whole estate's year, each team's month and the end customer's quarter.
The Data team's is sized from its own cost so far (of the month, or of the quarter early in a
month), so that it stands past its 90 % threshold whatever day the demo is loaded on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from billing.models import Team
from insights.budgets.check import budgets_check
from insights.budgets.services import budget_create
from insights.budgets.spend import budget_spend, period_of, tenant_reader
from insights.models import Budget
from invoices.models import BillingUnit
from portal.demo import data

STANDARD_THRESHOLDS = [
    {"kind": "percent", "value": "90", "basis": "actual"},
    {"kind": "percent", "value": "100", "basis": "forecast"},
    {"kind": "percent", "value": "150", "basis": "actual"},
]
TIGHT_TEAM = "Data"
MIN_SIZING_DAYS = 10


def ensure_budgets(*, actor: Any, today: date, made: Any) -> None:
    """The demo's budgets (made once), then the day's threshold check, notified."""
    if not Budget.objects.exists():
        _create_budgets(actor, today, made)
    fired = budgets_check(today)
    if fired:
        made(f"{len(fired)} budget alert(s)")


def _create_budgets(actor: Any, today: date, made: Any) -> None:
    reader = tenant_reader()
    month_end = today.replace(day=1) - timedelta(days=1)  # the last full month's last day
    for team in Team.objects.filter(name__in=[name for name, _ in data.TEAM_VALUES]):
        draft = Budget(name=f"{team.name} monthly", scope=Budget.Scope.TEAM, team=team, amount=0)
        # Sized on the previous month's cost, with room to spare.
        previous = budget_spend(draft, month_end, reader)
        amount = _rounded(max(previous.actual, Decimal(100)) * Decimal("1.4"))
        if team.name == TIGHT_TEAM:
            amount = _tighten(draft, today, reader, fallback=amount)
        draft.amount = amount
        budget_create(actor=actor, thresholds=STANDARD_THRESHOLDS, **_fields(draft))
        made(f"budget {draft.name} of {amount} USD")
    month = budget_spend(Budget(name="", scope=Budget.Scope.TENANT, amount=0), month_end, reader)
    yearly = _rounded(max(month.actual, Decimal(1000)) * 12 * Decimal("1.25"))
    estate = Budget(name="Whole estate", scope=Budget.Scope.TENANT, period="yearly", amount=yearly)
    budget_create(
        actor=actor,
        thresholds=[
            {"kind": "percent", "value": "80", "basis": "actual"},
            {"kind": "percent", "value": "100", "basis": "forecast"},
        ],
        **_fields(estate),
    )
    made(f"budget Whole estate of {yearly} USD a year")
    unit = BillingUnit.objects.filter(end_customer__isnull=False).first()
    if unit is not None:
        budget = Budget(
            name=f"{unit.name} quarterly",
            scope=Budget.Scope.BILLING_UNIT,
            billing_unit=unit,
            amount=0,
        )
        previous = budget_spend(budget, month_end, reader)  # monthly: the last full month
        budget.period = "quarterly"
        budget.amount = _rounded(max(previous.actual, Decimal(100)) * 3 * Decimal("1.2"))
        budget_create(actor=actor, thresholds=STANDARD_THRESHOLDS, **_fields(budget))
        made(f"budget {budget.name} of {budget.amount} USD")


def _tighten(draft: Budget, today: date, reader: Any, *, fallback: Decimal) -> Decimal:
    """An amount the period's cost so far has passed 90 % of, but not 100 %: of the
    month, or early in a month of the quarter or year, so that it is sized on weeks of
    cost rather than a few days (then the draft's period and name change too)."""
    for period in ("monthly", "quarterly", "yearly"):
        draft.period = period
        start, _ = period_of(draft, today)
        if (today - start).days > MIN_SIZING_DAYS:
            break
    else:
        draft.period = "monthly"
    draft.name = f"{draft.team.name if draft.team else draft.name} {draft.period}"
    actual = budget_spend(draft, today, reader).actual
    if actual <= 0:
        return fallback
    return _rounded(actual / Decimal("0.95"), step=Decimal(1))


def _rounded(amount: Decimal, step: Decimal = Decimal(100)) -> Decimal:
    return (amount / step).to_integral_value(rounding=ROUND_CEILING) * step


def _fields(budget: Budget) -> dict[str, Any]:
    names = ("name", "scope", "team", "billing_unit", "period", "amount", "metric")
    return {name: getattr(budget, name) for name in names}
