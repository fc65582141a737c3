"""A team's weekly efficiency score, from the cost the allocation gives it.

For each team and ISO week, the latest allocation runs' results of the team's value
(splits included) are summed per service, usage type, operation, commitment and set of tag
keys, amortized, and each sum is classified (`insights.scores.signals`): the cost eligible
for a component, the part already efficient, and the saving left. Tag compliance takes
every positive cost as eligible and the part whose tags carry all required keys as
efficient. A component's value is its efficient share in percent; it scores 100 at its
target; the score is the weighted mean of the components that apply (have eligible cost).
Budget adherence: of the team's cost in the week, the share within its team budget's
weekly part; not applicable to a team without a budget.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from allocation.models import AllocationResult, AllocationRun, RunStatus
from billing.models import TagKey
from insights.models import ScoreSettings, TeamCostBinding
from insights.scores.budget_adherence import weekly_budgets, within_budget
from insights.scores.signals import COMPONENTS, classify

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# A week's saving as a monthly one: the average month has 365.25 / 12 days.
WEEKS_PER_MONTH = Decimal("365.25") / 12 / 7
# Decided from the usage type, operation and commitment (`signals.classify`).
USAGE_COMPONENTS = frozenset(
    {
        "commitment_coverage",
        "graviton",
        "current_generation",
        "spot",
        "ebs_volume_type",
        "s3_storage_class",
    }
)
MEASURED_COMPONENTS = USAGE_COMPONENTS | {"tag_compliance", "budget_adherence"}
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
        return self.key in MEASURED_COMPONENTS and self.eligible_cost > 0

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


def required_tag_keys(category: Any = None, period: date | None = None) -> list[str]:
    """The tag keys every cost should carry: the tenant's choice, or by default the keys
    the rules of the teams' category read (what those rules cannot place by tag is what
    the teams should tag)."""
    saved = ScoreSettings.objects.order_by("pk").first()
    if saved is not None and saved.required_tag_keys:
        return [str(key) for key in saved.required_tag_keys]
    return rule_tag_keys(category, period)


def rule_tag_keys(category: Any = None, period: date | None = None) -> list[str]:
    """The tag keys the rules of the teams' category read (in force in `period`)."""
    if category is None:
        binding = TeamCostBinding.objects.select_related("category").first()
        category = binding.category if binding else None
    if category is None:
        return []
    version = category.version_for(period or date.today())
    if version is None:
        return []
    keys: set[str] = set()
    for expression in version.rules.exclude(expression=None).values_list("expression", flat=True):
        keys.update(_tag_keys_read(expression))
    return sorted(keys)


def _tag_keys_read(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_tag_keys_read, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    if node.get("field") == "tag" and isinstance(node.get("key"), str):
        return {node["key"]}
    return set().union(*(_tag_keys_read(v) for k, v in node.items() if k in ("all", "any", "not")))


def tag_key_spellings(keys: list[str]) -> list[frozenset[str]]:
    """Per required key, the spellings that carry it: the key and its aliases."""
    aliases = dict(TagKey.objects.filter(name__in=keys).values_list("name", "aliases"))
    return [frozenset({key, *(aliases.get(key) or [])}) for key in keys]


def carries(tag_keys: list[str], spellings: list[frozenset[str]]) -> bool:
    present = set(tag_keys)
    return all(present & spelled for spelled in spellings)


def score_week(
    week: date, team_ids: list[int] | None = None, rows: list[tuple[Any, ...]] | None = None
) -> list[WeekScore]:
    """The scores of `week` (a Monday) of every bound team, or of `team_ids`; `rows`:
    their `week_rows`, if already read."""
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
    spellings = tag_key_spellings(required_tag_keys(bindings[0].category, week))
    by_team = {team_id: {c.key: c for c in score.components} for team_id, score in scores.items()}
    if rows is None:
        rows = week_rows(bindings, week)
    team_costs: dict[int, Decimal] = defaultdict(Decimal)
    for value, _, service, usage_type, operation, commitment, tag_keys, cost in rows:
        components = by_team[team_of[value]]
        team_costs[team_of[value]] += cost
        for hit in classify(service or None, usage_type or None, operation, commitment):
            component = components[hit.component]
            component.eligible_cost += cost
            if hit.efficient:
                component.efficient_cost += cost
            else:
                component.weekly_saving += cost * hit.saving_rate
        if spellings and cost > 0:
            tagging = components["tag_compliance"]
            tagging.eligible_cost += cost
            if carries(tag_keys, spellings):
                tagging.efficient_cost += cost
    _add_budget_adherence(by_team, team_costs, week)
    return list(scores.values())


def _add_budget_adherence(
    by_team: dict[int, dict[str, Component]], team_costs: dict[int, Decimal], week: date
) -> None:
    for team_id, weekly in weekly_budgets(list(by_team), week).items():
        component = by_team[team_id]["budget_adherence"]
        component.eligible_cost, component.efficient_cost = within_budget(
            team_costs[team_id], weekly
        )


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


def week_rows(bindings: list[TeamCostBinding], week: date) -> list[tuple[Any, ...]]:
    """(value, account, service, usage type, operation, commitment, tag keys, effective
    cost) of the bound values in the week, from the latest runs: what both the scores and
    the recommendations read, read once."""
    if not bindings:
        return []
    table = AllocationResult._meta.db_table
    with connection.cursor() as cursor:
        # Index allocresult_run_value.
        cursor.execute(
            "SELECT value, sub_account_id, service_name, usage_type, operation, commitment, "
            f"tag_keys, sum(effective_cost) FROM {table} "
            "WHERE run_id = ANY(%s) AND value = ANY(%s) AND day >= %s AND day < %s "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7",
            [
                week_runs(bindings[0].category, week),
                [b.value for b in bindings],
                week,
                week + timedelta(days=7),
            ],
        )
        return cursor.fetchall()
