"""What a team can change to raise its score, from one week of its allocated cost.

Each account, service and usage type whose cost is not yet the efficient option of a
component becomes a recommendation: the current and suggested option, the estimated
monthly saving, and one sentence with the numbers behind it; its largest resources (from
the weekly resource costs) become recommendations of their own, naming the resource.
Sorted by saving, largest first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billing.models import LoadedPeriod, Team
from insights.models import TeamCostBinding
from insights.scores.compute import USAGE_COMPONENTS, WEEKS_PER_MONTH, week_rows, week_runs
from insights.scores.resources import RowKey, team_resources
from insights.scores.signals import Hit, classify

CENT = Decimal("0.01")
DATABASES = ("rds", "elasticache", "dynamodb", "redshift", "opensearch", "database")
# The largest resources of a row that become recommendations of their own.
RESOURCES_PER_ROW = 10
LABELS = {
    "commitment_coverage": "a commitment: Savings Plan or reservation",
    "graviton": "Graviton (ARM)",
    "current_generation": "a current-generation instance",
    "spot": "Spot",
    "ebs_volume_type": "a newer EBS volume type",
    "s3_storage_class": "an S3 storage class for data read less often",
}
CATEGORIES = ("compute", "storage", "database", "network", "ai")


@dataclass(frozen=True)
class Recommendation:
    category: str  # compute, storage, database, network or ai
    component: str
    owner_account: str
    owner_team: str
    resource_id: str | None  # None for cost tied to no resource of the team's
    current: str
    suggested: str
    monthly_saving: Decimal
    reasoning: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "monthly_saving": str(self.monthly_saving)}


def team_recommendations(
    team: Team, week: date, *, category: str | None = None, owner: str | None = None
) -> list[Recommendation]:
    """The recommendations of `team` from the week starting on `week` (a Monday)."""
    binding = TeamCostBinding.objects.filter(team=team).select_related("category", "team")
    found = week_recommendations(list(binding), week).get(team.pk, [])
    if category:
        found = [r for r in found if r.category == category]
    if owner:
        found = [r for r in found if owner in (r.owner_account, r.owner_team)]
    return found


def week_recommendations(
    bindings: list[TeamCostBinding], week: date, rows: list[tuple[Any, ...]] | None = None
) -> dict[int, list[Recommendation]]:
    """Per team id, the recommendations of the bound teams from the week starting on
    `week`, largest saving first: a fixed number of queries for any number of teams.
    `rows`: their `week_rows`, if already read."""
    if not bindings:
        return {}
    if rows is None:
        rows = week_rows(bindings, week)
    currency = _currency(week)
    runs = week_runs(bindings[0].category, week)
    by_value = {b.value: b for b in bindings}
    costs: dict[tuple[str, RowKey], Decimal] = defaultdict(Decimal)
    for value, account, service, usage_type, operation, commitment, _, cost in rows:
        costs[(value, (account, service, usage_type, operation, commitment))] += cost
    candidates: dict[str, list[tuple[RowKey, Hit, Decimal]]] = defaultdict(list)
    for (value, key), cost in costs.items():
        _, service, usage_type, operation, commitment = key
        for hit in classify(service or None, usage_type or None, operation, commitment):
            if hit.component in USAGE_COMPONENTS and not hit.efficient and cost > 0:
                candidates[value].append((key, hit, cost))
    usage_types = {key[2] for found in candidates.values() for key, _, _ in found}
    resources = team_resources(runs, list(candidates), week, usage_types)
    made: dict[int, list[Recommendation]] = {}
    for value, found in candidates.items():
        team = by_value[value].team
        held = resources.get(value, {})
        made[team.pk] = sorted(
            (
                recommendation
                for key, hit, cost in found
                for recommendation in _recommended(team, week, currency, key, hit, cost, held)
            ),
            key=lambda r: (-r.monthly_saving, r.owner_account, r.current, r.resource_id or ""),
        )
    return made


def _recommended(
    team: Team,
    week: date,
    currency: str,
    key: RowKey,
    hit: Hit,
    cost: Decimal,
    held: dict[RowKey, list[tuple[str, Decimal]]],
) -> list[Recommendation]:
    made = []
    for resource_id, part, note in _parts(cost, held.get(key, [])):
        monthly = (part * hit.saving_rate * WEEKS_PER_MONTH).quantize(CENT)
        if monthly <= 0:
            continue
        made.append(
            Recommendation(
                category=_category(hit.component, key[1]),
                component=hit.component,
                owner_account=key[0],
                owner_team=team.name,
                resource_id=resource_id,
                current=hit.current,
                suggested=hit.suggested,
                monthly_saving=monthly,
                reasoning=(
                    f"{hit.current}{note} cost {part.quantize(CENT)} {currency} in the week "
                    f"from {week}; moving to {hit.suggested} ({LABELS[hit.component]}) saves "
                    f"about {hit.saving_rate * 100:.0f}% of it, {monthly} {currency} a month."
                ),
            )
        )
    return made


def _parts(
    cost: Decimal, resources: list[tuple[str, Decimal]]
) -> list[tuple[str | None, Decimal, str]]:
    """The row's cost as (resource id, cost, note): its largest resources one by one,
    the rest (other resources, or cost tied to none) together."""
    parts: list[tuple[str | None, Decimal, str]] = []
    for resource_id, part in resources[:RESOURCES_PER_ROW]:
        if 0 < part <= cost - sum(p for _, p, _ in parts):
            parts.append((resource_id, part, f" ({resource_id})"))
    rest = cost - sum(p for _, p, _ in parts)
    others = len(resources) - len(parts)
    if rest > 0:
        note = f" (across {others} more resources)" if others > 0 and parts else ""
        parts.append((None, rest, note))
    return parts


def _category(component: str, service: str) -> str:
    if component in ("ebs_volume_type", "s3_storage_class"):
        return "storage"
    squashed = service.lower().replace(" ", "")
    if any(name in squashed for name in DATABASES):
        return "database"
    if "sagemaker" in squashed or "bedrock" in squashed:
        return "ai"
    return "compute"


def _currency(week: date) -> str:
    currencies = {
        currency
        for found in LoadedPeriod.objects.filter(
            billing_period_start=week.replace(day=1)
        ).values_list("currencies", flat=True)
        for currency in found
    }
    return currencies.pop() if len(currencies) == 1 else "USD"
