"""What the budget pages and API show of a budget: its period's spend, its status against
its thresholds, where each threshold sits on the status bar, and the alerts it fired."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from insights.budgets.check import crossed, limit_of
from insights.budgets.spend import Spend, budget_filters, budget_spend, tenant_reader
from insights.models import Budget, BudgetAlert, BudgetThreshold
from insights.query import CostQuery, dimension_label
from insights.selectors import cost_explorer
from portal.core.errors import ApplicationError

HUNDRED = Decimal(100)
# The bar shows up to twice the budget; beyond, it is full and says so.
MAX_SCALE = Decimal(200)


def percent_of(amount: Decimal | None, budget: Decimal) -> Decimal | None:
    if amount is None or not budget:
        return None
    return (amount * HUNDRED / budget).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Mark:
    """A threshold of the budget in this period: its limit in money and in percent."""

    threshold: BudgetThreshold
    limit: Decimal
    percent: Decimal | None
    crossed: bool
    fired: BudgetAlert | None  # its alert of this period
    at: Decimal = Decimal(0)  # where it sits on the status bar, in percent of its width

    @property
    def label(self) -> str:
        return str(self.threshold)


@dataclass
class BudgetFigures:
    budget: Budget
    spend: Spend | None
    error: str | None = None  # why the spend could not be measured
    marks: list[Mark] = field(default_factory=list)
    alerts: list[BudgetAlert] = field(default_factory=list)  # newest first, every period
    elapsed: int = 0  # days of the period whose cost counts (up to yesterday)

    def __post_init__(self) -> None:
        self.marks = [replace(mark, at=self.at(mark.percent)) for mark in self.marks]

    @property
    def about(self) -> About:
        return describe(self.budget)

    @property
    def latest_alert(self) -> BudgetAlert | None:
        return self.alerts[0] if self.alerts else None

    @property
    def actual_percent(self) -> Decimal | None:
        return None if self.spend is None else self.spend.actual_percent

    @property
    def forecast_percent(self) -> Decimal | None:
        if self.spend is None:
            return None
        return percent_of(self.spend.forecast, self.spend.budget_amount)

    @property
    def status(self) -> str:
        """ok, warning (a threshold crossed) or over (actual spend past the budget)."""
        if self.spend is None:
            return "unknown"
        if self.spend.budget_amount and self.spend.actual > self.spend.budget_amount:
            return "over"
        if self.spend.budget_amount == 0 and self.spend.actual > 0:
            return "over"
        return "warning" if any(mark.crossed for mark in self.marks) else "ok"

    @property
    def status_label(self) -> str:
        status = self.status
        if status == "unknown":
            return "Cannot be measured"
        if status == "over":
            return "Over budget"
        if status == "ok":
            return "On track"
        crossed_marks = [m for m in self.marks if m.crossed]
        # An actual threshold says more than a forecast one; the highest crossed, of those.
        actual = [m for m in crossed_marks if m.threshold.basis == "actual"]
        worst = max(actual or crossed_marks, key=lambda m: m.limit)
        return f"Past {worst.label}"

    @property
    def period_label(self) -> str:
        if self.spend is None:
            return ""
        return period_label(self.budget.period, self.spend.period_start)

    @property
    def last_day(self) -> date | None:
        return None if self.spend is None else self.spend.period_end - timedelta(days=1)

    @property
    def days(self) -> tuple[int, int]:
        """Days of the period with cost counted, and days in all."""
        if self.spend is None:
            return (0, 0)
        total = (self.spend.period_end - self.spend.period_start).days
        return (self.elapsed, total)

    @property
    def scale(self) -> Decimal:
        """The percent of the budget at the bar's right end."""
        seen = [HUNDRED, self.actual_percent, self.forecast_percent]
        seen += [mark.percent for mark in self.marks]
        top = max(p for p in seen if p is not None)
        return min(top * Decimal("1.05"), MAX_SCALE) if top > HUNDRED else HUNDRED

    def at(self, percent: Decimal | None) -> Decimal:
        """Where `percent` of the budget falls on the bar, in percent of its width."""
        if percent is None:
            return Decimal(0)
        return max(Decimal(0), min(HUNDRED, percent * HUNDRED / self.scale)).quantize(
            Decimal("0.01")
        )

    @property
    def actual_at(self) -> Decimal:
        return self.at(self.actual_percent)

    @property
    def forecast_at(self) -> Decimal:
        return self.at(self.forecast_percent)

    @property
    def budget_at(self) -> Decimal:
        return self.at(HUNDRED)

    @property
    def clipped(self) -> bool:
        """A figure lies beyond the bar's right end."""
        figures = (self.actual_percent, self.forecast_percent)
        return any(p is not None and p > self.scale for p in figures)


def _marks(
    thresholds: Iterable[BudgetThreshold], spend: Spend, fired: dict[int, BudgetAlert]
) -> list[Mark]:
    marks = [
        Mark(
            threshold=threshold,
            limit=limit_of(threshold, spend.budget_amount),
            percent=percent_of(limit_of(threshold, spend.budget_amount), spend.budget_amount),
            crossed=crossed(threshold, spend),
            fired=fired.get(threshold.pk),
        )
        for threshold in thresholds
    ]
    return sorted(marks, key=lambda m: (m.limit, m.threshold.basis))


def budget_figures(budgets: Iterable[Budget], today: date) -> list[BudgetFigures]:
    """Each budget's figures of the period holding `today`, the explorer's scope resolved
    once for all; a budget whose filters the explorer refuses says why instead."""
    budgets = list(budgets)
    reader = tenant_reader()
    alerts: dict[int, list[BudgetAlert]] = defaultdict(list)
    rows = BudgetAlert.objects.filter(threshold__budget__in=budgets).select_related("threshold")
    for alert in rows.order_by("-fired_at", "-pk"):
        alerts[alert.threshold.budget_id].append(alert)
    figures = []
    for budget in budgets:
        own = alerts.get(budget.pk, [])
        try:
            spend = budget_spend(budget, today, reader)
        except ApplicationError as refused:
            figures.append(BudgetFigures(budget, None, error=refused.message, alerts=own))
            continue
        fired = {a.threshold_id: a for a in own if a.period_start == spend.period_start}
        marks = _marks(budget.thresholds.all(), spend, fired)
        elapsed = max((min(today, spend.period_end) - spend.period_start).days, 0)
        figures.append(BudgetFigures(budget, spend, marks=marks, alerts=own, elapsed=elapsed))
    return figures


def visible_budgets(user: Any) -> Any:
    """The budgets `user` may see, with what their figures read loaded up front."""
    return (
        Budget.objects.visible_to(user)
        .select_related("team", "billing_unit__category", "category")
        .prefetch_related("thresholds")
    )


@dataclass(frozen=True)
class DailyCurve:
    """The period's cumulative actual per day, against the budget and the forecast."""

    days: list[date]
    cumulative: list[Decimal | None]  # None for the days not yet loaded
    forecast: list[Decimal | None]  # from the last loaded day to the period's end


def daily_curve(budget: Budget, spend: Spend, today: date) -> DailyCurve:
    """The chart of the budget's period: cumulative actual cost per day up to yesterday,
    then the forecast's straight line to the period's end."""
    start, end = spend.period_start, spend.period_end
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    through = min(today, end)
    by_day: dict[date, Decimal] = {}
    if through > start:
        query = CostQuery(
            start=start,
            end=through,
            granularity="daily",
            metric=budget.metric,
            filters=budget_filters(budget),
        )
        answer = cost_explorer(user=tenant_reader(), query=query)
        for group in answer.groups:
            for point in group.series:
                by_day[point.date] = by_day.get(point.date, Decimal(0)) + point.amount
    cumulative: list[Decimal | None] = []
    running = Decimal(0)
    for day in days:
        if day < through:
            running += by_day.get(day, Decimal(0))
            cumulative.append(running)
        else:
            cumulative.append(None)
    forecast: list[Decimal | None] = [None] * len(days)
    loaded = (through - start).days
    if spend.forecast is not None and loaded:
        rate = (spend.forecast - running) / max(len(days) - loaded, 1)
        for index in range(loaded - 1, len(days)):
            forecast[index] = running + rate * (index - loaded + 1)
    return DailyCurve(days, cumulative, forecast)


def period_label(period: str, start: date) -> str:
    """ "January 2026", "Q1 2026" or "2026"."""
    if period == Budget.Period.QUARTERLY:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period == Budget.Period.YEARLY:
        return str(start.year)
    return f"{start:%B %Y}"


@dataclass(frozen=True)
class About:
    """A budget in words: whose cost, of which kind, narrowed how."""

    scope: str
    metric: str
    filters: list[str]


def describe(budget: Budget) -> About:
    if budget.scope == Budget.Scope.TEAM and budget.team is not None:
        scope = f"Team {budget.team.name}"
    elif budget.scope == Budget.Scope.BILLING_UNIT and budget.billing_unit is not None:
        scope = f"Billing unit {budget.billing_unit.name}"
    elif budget.scope == Budget.Scope.CATEGORY_VALUE and budget.category is not None:
        scope = f"{budget.category.name}: {budget.value}"
    else:
        scope = "Whole tenant"
    filters = [
        f"{dimension_label(str(d))}: {', '.join(str(v) for v in values)}"
        for d, values in budget.filters or []
    ]
    return About(scope, budget.get_metric_display(), filters)


def chart_data(figures: BudgetFigures, curve: DailyCurve) -> dict[str, Any]:
    """The detail page's chart as JSON: amounts as decimal text, drawn as Numbers."""
    assert figures.spend is not None

    def text(values: list[Decimal | None]) -> list[str | None]:
        return [None if v is None else format(v.quantize(Decimal("0.01")), "f") for v in values]

    return {
        "days": [day.isoformat() for day in curve.days],
        "actual": text(curve.cumulative),
        "forecast": text(curve.forecast),
        "budget": format(figures.spend.budget_amount, "f"),
        "currency": figures.spend.currency,
        "marks": [
            {"label": mark.label, "limit": format(mark.limit.quantize(Decimal("0.01")), "f")}
            for mark in figures.marks
        ],
    }
