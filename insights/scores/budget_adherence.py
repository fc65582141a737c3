"""The budget adherence component: of a team's cost in the week, the share within its
budget's weekly part (the period's amount spread evenly over the period's days)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from insights.budgets.spend import budget_amount, period_of
from insights.models import Budget


def weekly_budgets(team_ids: list[int], week: date) -> dict[int, Decimal]:
    """Team id -> the week's part of its budget (the first team budget by name)."""
    found: dict[int, Decimal] = {}
    budgets = Budget.objects.filter(scope=Budget.Scope.TEAM, team_id__in=team_ids)
    for budget in budgets.order_by("name"):
        if budget.team_id is None or budget.team_id in found:
            continue
        start, end = period_of(budget, week)
        found[budget.team_id] = budget_amount(budget, start, end) * 7 / (end - start).days
    return found


def within_budget(cost: Decimal, weekly_budget: Decimal) -> tuple[Decimal, Decimal]:
    """(eligible, efficient) cost of the component: the week's cost, and its part within
    the budget."""
    if cost <= 0:
        return Decimal(0), Decimal(0)
    return cost, min(cost, weekly_budget)
