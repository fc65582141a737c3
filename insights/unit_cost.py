"""Cost per unit: a team's allocated cost of each day over its business metrics' values.

The cost is the explorer's (what the team's bound category value gets, splits included, as
the user may see it). A period's cost per unit is the cost of the days that have a value
over the sum of those values, so that a metric given for some days only is not charged
the cost of the others. Figures end on the last day with cost (bills arrive late).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billing.models import Team
from billing.selectors import latest_cost_day
from insights.models import BusinessMetric, TeamCostBinding
from insights.query import MAX_LIMIT, CostQuery, add_months
from insights.selectors import DEFAULT_CURRENCY, cost_explorer
from insights.serializers import amount_text
from portal.core.errors import ApplicationError

WINDOW_DAYS = 90  # the team page's chart
PERIOD_DAYS = 30  # the table: the last 30 days against the 30 before
SCALES = (1, 1_000, 1_000_000)
# A cost per unit below this reads as cents of nothing: it is shown per 1,000 units.
READABLE = Decimal("0.10")
UNBOUND = "The team is bound to no cost category value, so it has no cost to divide."
CHART_PLACES = Decimal("0.000001")

CostByDay = dict[date, Decimal]


@dataclass(frozen=True)
class PeriodFigures:
    """A metric over a period: the cost of its days with a value, and the values' sum."""

    cost: Decimal
    units: Decimal
    days: int

    def per_unit(self, scale: int) -> Decimal | None:
        return self.cost * scale / self.units if self.units else None


@dataclass(frozen=True)
class MetricUnitCost:
    metric: str
    scale: int  # figures are per this many units
    current: PeriodFigures
    previous: PeriodFigures
    per_unit_by_day: list[Decimal | None] = field(default_factory=list)
    units_by_day: list[Decimal | None] = field(default_factory=list)

    @property
    def per_unit(self) -> Decimal | None:
        return self.current.per_unit(self.scale)

    @property
    def previous_per_unit(self) -> Decimal | None:
        return self.previous.per_unit(self.scale)

    @property
    def change_percent(self) -> Decimal | None:
        now, before = self.per_unit, self.previous_per_unit
        if now is None or not before:
            return None
        return ((now - before) * 100 / before).quantize(Decimal("0.01"))

    @property
    def per_text(self) -> str:
        return "per unit" if self.scale == 1 else f"per {self.scale:,}"


@dataclass
class TeamUnitCost:
    team: Team
    currency: str
    through: date  # the last day counted
    days: list[date]  # the chart's days, through `through`
    metrics: list[MetricUnitCost]
    refused: str | None = None  # why there is no cost to divide, if there is none
    cost_by_day: CostByDay = field(default_factory=dict)

    @property
    def current_start(self) -> date:
        return self.through - timedelta(days=PERIOD_DAYS - 1)

    @property
    def previous_start(self) -> date:
        return self.through - timedelta(days=2 * PERIOD_DAYS - 1)

    @property
    def previous_last_day(self) -> date:
        return self.current_start - timedelta(days=1)

    def chart_json(self) -> dict[str, Any]:
        """The chart's data: amounts as decimal strings, nulls on days without a value."""
        return {
            "currency": self.currency,
            "dates": [day.isoformat() for day in self.days],
            "metrics": [
                {
                    "metric": line.metric,
                    "per": line.per_text,
                    "per_unit": [_chart_text(v) for v in line.per_unit_by_day],
                    "units": [_chart_text(v) for v in line.units_by_day],
                }
                for line in self.metrics
            ],
            "cost": [amount_text(self.cost_by_day.get(day, Decimal(0))) for day in self.days],
        }


def _chart_text(value: Decimal | None) -> str | None:
    return None if value is None else amount_text(value.quantize(CHART_PLACES))


def cost_through(today: date) -> date:
    """The last day with cost: of this month's bills, else last month's, else yesterday."""
    found = latest_cost_day(today) or latest_cost_day(add_months(today.replace(day=1), -1))
    return min(found, today) if found else today - timedelta(days=1)


def team_unit_cost(*, user: Any, team: Team, today: date) -> TeamUnitCost:
    """The team page's figures: each metric's last 30 days against the 30 before, and its
    cost per unit of each of the last 90 days."""
    through = cost_through(today)
    start = through - timedelta(days=WINDOW_DAYS - 1)
    days = [start + timedelta(days=n) for n in range(WINDOW_DAYS)]
    units = _units([team], start, through)
    bound = TeamCostBinding.objects.filter(team=team).exists()
    costs: dict[str, CostByDay] = {}
    currency, refused = DEFAULT_CURRENCY, None if bound else UNBOUND
    if units and bound:
        currency, costs, refused = _costs(user, [team], start, through)
    cost = costs.get(team.name, {})
    metrics = [
        _metric_unit_cost(metric, cost, by_day, days, through)
        for (_, metric), by_day in sorted(units.items())
    ]
    return TeamUnitCost(team, currency, through, days, metrics, refused, cost)


def teams_unit_cost(*, user: Any, today: date) -> list[TeamUnitCost]:
    """Each team `user` sees that has metrics: the last 30 days against the 30 before, in
    a fixed number of queries."""
    through = cost_through(today)
    start = through - timedelta(days=2 * PERIOD_DAYS - 1)
    teams = list(Team.objects.visible_to(user).order_by("name"))
    units = _units(teams, start, through)
    with_units = [team for team in teams if any(key[0] == team.pk for key in units)]
    if not with_units:
        return []
    bound = set(
        TeamCostBinding.objects.filter(team__in=with_units).values_list("team_id", flat=True)
    )
    asked = [team for team in with_units if team.pk in bound]
    currency, costs, refused = _costs(user, asked, start, through)
    found = []
    for team in with_units:
        cost = costs.get(team.name, {})
        metrics = [
            _metric_unit_cost(metric, cost, by_day, [], through)
            for (team_id, metric), by_day in sorted(units.items())
            if team_id == team.pk
        ]
        why = refused if team.pk in bound else UNBOUND
        found.append(TeamUnitCost(team, currency, through, [], metrics, why))
    return found


def _units(teams: list[Team], start: date, through: date) -> dict[tuple[int, str], CostByDay]:
    """(team id, metric) -> day -> value, for the days from `start` through `through`."""
    rows = BusinessMetric.objects.filter(team__in=teams, day__gte=start, day__lte=through)
    found: dict[tuple[int, str], CostByDay] = defaultdict(dict)
    for team_id, metric, day, value in rows.values_list("team_id", "metric", "day", "value"):
        found[(team_id, metric)][day] = value
    return dict(found)


def _costs(
    user: Any, teams: list[Team], start: date, through: date
) -> tuple[str, dict[str, CostByDay], str | None]:
    """Team name -> day -> cost, in one question to the explorer (as `user` may see it)."""
    if not teams:
        return DEFAULT_CURRENCY, {}, None
    query = CostQuery(
        start=start,
        end=through + timedelta(days=1),
        group_by=("team",),
        filters=(("team", tuple(team.name for team in teams)),),
        limit=MAX_LIMIT,
    )
    try:
        answer = cost_explorer(user=user, query=query)
    except ApplicationError as exc:
        return DEFAULT_CURRENCY, {}, exc.message
    costs = {
        group.keys[0]: {point.date: point.amount for point in group.series}
        for group in answer.groups
        if not group.is_others
    }
    return answer.currency, costs, None


def _metric_unit_cost(
    metric: str, cost: CostByDay, units: CostByDay, days: list[date], through: date
) -> MetricUnitCost:
    current_start = through - timedelta(days=PERIOD_DAYS - 1)
    previous_start = current_start - timedelta(days=PERIOD_DAYS)
    current = _figures(cost, units, current_start, through)
    previous = _figures(cost, units, previous_start, current_start - timedelta(days=1))
    scale = _scale(current if current.units else previous)
    per_day = [
        cost.get(day, Decimal(0)) * scale / units[day] if units.get(day) else None for day in days
    ]
    return MetricUnitCost(
        metric, scale, current, previous, per_day, [units.get(day) for day in days]
    )


def _figures(cost: CostByDay, units: CostByDay, first: date, last: date) -> PeriodFigures:
    days = [day for day in units if first <= day <= last]
    return PeriodFigures(
        cost=sum((cost.get(day, Decimal(0)) for day in days), Decimal(0)),
        units=sum((units[day] for day in days), Decimal(0)),
        days=len(days),
    )


def _scale(figures: PeriodFigures) -> int:
    """The fewest units (1, 1,000 or a million) whose cost reads in cents."""
    for scale in SCALES:
        per_unit = figures.per_unit(scale)
        if per_unit is None or abs(per_unit) >= READABLE:
            return scale
    return SCALES[-1]
