"""What a team can change to raise its score, from one week of its allocated cost.

Each account, service and usage type whose cost is not yet the efficient option of a
component becomes a recommendation: the current and suggested option, the estimated
monthly saving, and one sentence with the numbers behind it; its largest resources (from
the weekly resource costs) become recommendations of their own, naming the resource.
Sorted by saving, largest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from allocation.models import AllocationResult
from billing.models import LoadedPeriod, Team
from insights.models import TeamCostBinding
from insights.scores.compute import USAGE_COMPONENTS, WEEKS_PER_MONTH, week_runs
from insights.scores.resources import team_resources
from insights.scores.signals import classify

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


def team_recommendations(
    team: Team, week: date, *, category: str | None = None, owner: str | None = None
) -> list[Recommendation]:
    """The recommendations of `team` from the week starting on `week` (a Monday)."""
    binding = TeamCostBinding.objects.filter(team=team).select_related("category").first()
    if binding is None:
        return []
    currency = _currency(week)
    runs = week_runs(binding.category, week)
    candidates = []
    for account, service, usage_type, operation, commitment, cost in _week_rows(
        runs, binding.value, week
    ):
        for hit in classify(service or None, usage_type or None, operation, commitment):
            if hit.component in USAGE_COMPONENTS and not hit.efficient and cost > 0:
                candidates.append(
                    ((account, service, usage_type, operation, commitment), hit, cost)
                )
    resources = team_resources(runs, binding.value, week, {key[2] for key, _, _ in candidates})
    found = []
    for key, hit, cost in candidates:
        for resource_id, part, note in _parts(cost, resources.get(key, [])):
            monthly = (part * hit.saving_rate * WEEKS_PER_MONTH).quantize(CENT)
            if monthly <= 0:
                continue
            found.append(
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
                        f"{hit.current}{note} cost {part.quantize(CENT)} {currency} in the "
                        f"week from {week}; moving to {hit.suggested} "
                        f"({LABELS[hit.component]}) saves about "
                        f"{hit.saving_rate * 100:.0f}% of it, {monthly} {currency} a month."
                    ),
                )
            )
    if category:
        found = [r for r in found if r.category == category]
    if owner:
        found = [r for r in found if owner in (r.owner_account, r.owner_team)]
    return sorted(found, key=lambda r: (-r.monthly_saving, r.owner_account, r.current))


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


def _week_rows(runs: list[int], value: str, week: date) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        # Index allocresult_run_value.
        cursor.execute(
            "SELECT sub_account_id, service_name, usage_type, operation, commitment, "
            f"sum(effective_cost) FROM {AllocationResult._meta.db_table} "
            "WHERE run_id = ANY(%s) AND value = %s AND day >= %s AND day < %s "
            "GROUP BY 1, 2, 3, 4, 5",
            [runs, value, week, week + timedelta(days=7)],
        )
        return cursor.fetchall()


def _currency(week: date) -> str:
    currencies = {
        currency
        for found in LoadedPeriod.objects.filter(
            billing_period_start=week.replace(day=1)
        ).values_list("currencies", flat=True)
        for currency in found
    }
    return currencies.pop() if len(currencies) == 1 else "USD"
