"""A budget's period and spend: actual cost so far from the cost explorer's engine, and the
forecast of the period's total: the cost so far plus the forecasting engine's expected cost
of the days to come, from the budget's own daily cost of up to 36 months (the run rate of
the days so far while there is less than a month of it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import Max

from billing.models.cubes import CostCube
from insights.forecasts import MAX_HORIZON_DAYS, TotalForecast, forecast_total
from insights.models import Budget
from insights.query import CostQuery, add_months
from insights.selectors import cost_explorer
from portal.core.errors import ApplicationError
from portal.users.roles import Role

PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
# A daily forecast reads its last year: the history read before the period.
HISTORY_MONTHS = 12


@dataclass(frozen=True)
class Spend:
    period_start: date
    period_end: date  # exclusive
    budget_amount: Decimal
    actual: Decimal
    forecast: Decimal | None  # None before the period has a day of cost
    currency: str

    @property
    def actual_percent(self) -> Decimal | None:
        if not self.budget_amount:
            return None
        return (self.actual * 100 / self.budget_amount).quantize(Decimal("0.1"))


def period_of(budget: Budget, day: date) -> tuple[date, date]:
    """The budget period holding `day`: calendar months, quarters or years."""
    months = PERIOD_MONTHS[budget.period]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return start, add_months(start, months)


def budget_amount(budget: Budget, start: date, end: date) -> Decimal:
    """The amount for the period: the months' own amounts where set, else the budget's."""
    if budget.period != Budget.Period.MONTHLY:
        return budget.amount
    own = budget.monthly_amounts.get(f"{start:%Y-%m}")
    return Decimal(own) if own not in (None, "") else budget.amount


def budget_filters(budget: Budget) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The explorer filters that make a cost this budget's."""
    filters = [(str(d), tuple(str(v) for v in values)) for d, values in budget.filters or []]
    if budget.scope == Budget.Scope.TEAM and budget.team is not None:
        filters.append(("team", (budget.team.name,)))
    elif budget.scope == Budget.Scope.BILLING_UNIT and budget.billing_unit is not None:
        unit = budget.billing_unit
        filters.append((f"category:{unit.category.name}", (unit.value,)))
    elif budget.scope == Budget.Scope.CATEGORY_VALUE and budget.category is not None:
        filters.append((f"category:{budget.category.name}", (budget.value,)))
    return tuple(filters)


def tenant_reader() -> Any:
    """Who budgets are measured as: the whole tenant, as an admin sees it."""
    return SimpleNamespace(role=Role.ADMIN, pk=None)


def budget_spend(budget: Budget, today: date, reader: Any = None) -> Spend:
    """The spend of the period holding `today`, counting cost up to yesterday's; `reader`
    (a `tenant_reader()`) keeps the explorer's scope of several budgets resolved once."""
    start, end = period_of(budget, today)
    through = min(today, end)
    amount = budget_amount(budget, start, end)
    if through <= start:
        return Spend(start, end, amount, Decimal(0), None, "USD")
    reader = reader or tenant_reader()
    answer = cost_explorer(user=reader, query=_daily(budget, start, through))
    actual = answer.total
    forecast = _forecast(budget, reader, start, end, through, actual)
    return Spend(start, end, amount, actual, forecast, answer.currency)


def _daily(budget: Budget, start: date, end: date) -> CostQuery:
    return CostQuery(
        start=start,
        end=end,
        granularity="daily",
        metric=budget.metric,
        filters=budget_filters(budget),
    )


def _forecast(
    budget: Budget, reader: Any, start: date, end: date, through: date, actual: Decimal
) -> Decimal:
    """The period's expected total: its cost so far plus the forecast of its days to come,
    from the last year's daily cost up to the last day the bills are loaded for; the run
    rate of the days so far when there is less than a month of history, when the period's
    end is further ahead than a daily forecast reaches (most of a year), or when the
    history cannot be read as one (bills of another currency in it)."""
    run_rate = actual * (end - start).days / (through - start).days
    loaded_to = min(through - timedelta(days=1), _last_day_loaded() or start)
    last = end - timedelta(days=1)
    if (last - loaded_to).days > MAX_HORIZON_DAYS:
        return run_rate
    history_start = add_months(start, -HISTORY_MONTHS)
    try:
        answer = cost_explorer(
            user=reader, query=_daily(budget, history_start, loaded_to + timedelta(days=1))
        )
    except ApplicationError:
        return run_rate
    days = sorted((point.date, point.amount) for group in answer.groups for point in group.series)
    by_day: dict[date, Decimal] = {}
    for day, cost in days:
        by_day[day] = by_day.get(day, Decimal(0)) + cost
    history = sorted(by_day.items())
    # The explorer gives every day of the query; the history starts with the first cost.
    first = next((index for index, (_, cost) in enumerate(history) if cost), len(history))
    total = forecast_total(history[first:], start, last) if history[first:] else None
    return total.expected if isinstance(total, TotalForecast) else run_rate


def _last_day_loaded() -> date | None:
    """The last day any bill has cost for (index costcube_grain_day)."""
    found: date | None = CostCube.objects.filter(grain="day").aggregate(last=Max("day"))["last"]
    return found
