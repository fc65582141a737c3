"""A team's weekly efficiency score, from the cost the allocation gives it.

For each team and ISO week, the latest allocation runs' results of the team's value
(splits included) are summed per service and usage type, amortized, and each sum is
classified (`insights.scores.signals`): the cost eligible for a component, the part
already efficient, and the saving left. A component's value is its efficient share in
percent; it scores 100 at its target; the score is the weighted mean of the components
that apply (have eligible cost). Components whose facts the allocated cost does not
carry yet (commitments, tags, budgets) are not applicable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from allocation.models import AllocationResult, AllocationRun, RunStatus
from insights.models import ScoreSettings, TeamCostBinding
from insights.scores.signals import COMPONENTS, classify

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# A week's saving as a monthly one: the average month has 365.25 / 12 days.
WEEKS_PER_MONTH = Decimal("365.25") / 12 / 7
# Decided from the usage type; the others need facts the allocated cost lacks so far.
USAGE_COMPONENTS = frozenset(
    {"graviton", "current_generation", "spot", "ebs_volume_type", "s3_storage_class"}
)
DEFAULT_WEIGHTS = {
    "commitment_coverage": Decimal(3),
    "graviton": Decimal(2),
    "current_generation": Decimal(1),
    "spot": Decimal(1),
    "ebs_volume_type": Decimal(1),
    "s3_storage_class": Decimal(1),
    "tag_compliance": Decimal(2),
    "budget_adherence": Decimal(2),
}
# Percent of eligible cost at which a component scores 100.
DEFAULT_TARGETS = {
    "commitment_coverage": Decimal(70),
    "graviton": Decimal(50),
    "current_generation": Decimal(95),
    "spot": Decimal(20),
    "ebs_volume_type": Decimal(90),
    "s3_storage_class": Decimal(50),
    "tag_compliance": Decimal(95),
    "budget_adherence": Decimal(100),
}


@dataclass
class Component:
    key: str
    weight: Decimal
    target: Decimal
    eligible_cost: Decimal = Decimal(0)
    efficient_cost: Decimal = Decimal(0)
    weekly_saving: Decimal = Decimal(0)

    @property
    def applicable(self) -> bool:
        return self.key in USAGE_COMPONENTS and self.eligible_cost > 0

    @property
    def value(self) -> Decimal | None:
        if not self.applicable:
            return None
        return self.efficient_cost * HUNDRED / self.eligible_cost

    @property
    def scaled(self) -> Decimal:
        """0-100: reaching the target gives 100."""
        value = self.value or Decimal(0)
        if self.target <= 0:
            return HUNDRED
        return min(HUNDRED, value * HUNDRED / self.target)

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        return {
            "key": self.key,
            "applicable": self.applicable,
            "value": None if value is None else str(value.quantize(CENT)),
            "weight": str(self.weight),
            "target": str(self.target),
            "eligible_cost": str(self.eligible_cost),
            "efficient_cost": str(self.efficient_cost),
            "potential_saving": str((self.weekly_saving * WEEKS_PER_MONTH).quantize(CENT)),
        }


@dataclass
class WeekScore:
    team_id: int
    week: date
    components: list[Component] = field(default_factory=list)

    @property
    def score(self) -> Decimal | None:
        applicable = [c for c in self.components if c.applicable and c.weight > 0]
        total_weight = sum((c.weight for c in applicable), Decimal(0))
        if not total_weight:
            return None
        weighted = sum((c.weight * c.scaled for c in applicable), Decimal(0))
        return (weighted / total_weight).quantize(CENT)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def settings_values() -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The tenant's weights and targets over the defaults."""
    weights, targets = dict(DEFAULT_WEIGHTS), dict(DEFAULT_TARGETS)
    saved = ScoreSettings.objects.order_by("pk").first()
    if saved is not None:
        weights.update({k: Decimal(str(v)) for k, v in saved.weights.items() if k in weights})
        targets.update({k: Decimal(str(v)) for k, v in saved.targets.items() if k in targets})
    return weights, targets


def score_week(week: date, team_ids: list[int] | None = None) -> list[WeekScore]:
    """The scores of `week` (a Monday) of every bound team, or of `team_ids`."""
    found = TeamCostBinding.objects.select_related("category")
    if team_ids is not None:
        found = found.filter(team_id__in=team_ids)
    bindings = list(found)
    weights, targets = settings_values()
    scores = {
        b.team_id: WeekScore(
            team_id=b.team_id,
            week=week,
            components=[Component(key, weights[key], targets[key]) for key in COMPONENTS],
        )
        for b in bindings
    }
    if not bindings:
        return []
    team_of = {b.value: b.team_id for b in bindings}
    for value, service, usage_type, cost in _allocated(bindings, week):
        components = {c.key: c for c in scores[team_of[value]].components}
        for hit in classify(service or None, usage_type or None):
            component = components[hit.component]
            component.eligible_cost += cost
            if hit.efficient:
                component.efficient_cost += cost
            else:
                component.weekly_saving += cost * hit.saving_rate
    return list(scores.values())


def week_runs(category: Any, week: date) -> list[int]:
    """The latest succeeded runs of `category` for the months the week touches."""
    end = week + timedelta(days=7)
    months = {week.replace(day=1), (end - timedelta(days=1)).replace(day=1)}
    runs: dict[date, int] = {}
    latest = AllocationRun.objects.filter(
        category=category, status=RunStatus.SUCCEEDED, period__in=months
    )
    for period, pk in latest.order_by("period", "pk").values_list("period", "pk"):
        runs[period] = pk
    return list(runs.values())


def _allocated(bindings: list[TeamCostBinding], week: date) -> list[tuple[Any, ...]]:
    """(value, service, usage type, effective cost) of the week, from the latest runs."""
    table = AllocationResult._meta.db_table
    with connection.cursor() as cursor:
        # Index allocresult_run_value.
        cursor.execute(
            f"SELECT value, service_name, usage_type, sum(effective_cost) FROM {table} "
            "WHERE run_id = ANY(%s) AND value = ANY(%s) AND day >= %s AND day < %s "
            "GROUP BY 1, 2, 3",
            [
                week_runs(bindings[0].category, week),
                [b.value for b in bindings],
                week,
                week + timedelta(days=7),
            ],
        )
        return cursor.fetchall()
