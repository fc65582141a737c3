"""What a team can change to raise its score, from one week of its allocated cost.

Each account, service and usage type whose cost is not yet the efficient option of a
component becomes a recommendation: the current and suggested option, the estimated
monthly saving, and one sentence with the numbers behind it. Sorted by saving, largest
first. Commitment coverage is left out: the allocated cost does not say yet what a
commitment already covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from allocation.models import AllocationResult
from billing.models import LoadedPeriod, Team
from insights.models import TeamCostBinding
from insights.scores.compute import USAGE_COMPONENTS, WEEKS_PER_MONTH, week_runs
from insights.scores.signals import classify

CENT = Decimal("0.01")
DATABASES = ("rds", "elasticache", "dynamodb", "redshift", "opensearch", "database")
LABELS = {
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
    resource_id: str | None  # the allocated cost keeps no resource ids yet
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
    found = []
    for account, service, usage_type, cost in _week_rows(binding, week):
        for hit in classify(service or None, usage_type or None):
            if hit.component not in USAGE_COMPONENTS or hit.efficient or cost <= 0:
                continue
            monthly = (cost * hit.saving_rate * WEEKS_PER_MONTH).quantize(CENT)
            if monthly <= 0:
                continue
            found.append(
                Recommendation(
                    category=_category(hit.component, service or ""),
                    component=hit.component,
                    owner_account=account or "",
                    owner_team=team.name,
                    resource_id=None,
                    current=hit.current,
                    suggested=hit.suggested,
                    monthly_saving=monthly,
                    reasoning=(
                        f"{hit.current} cost {cost.quantize(CENT)} {currency} in the week from "
                        f"{week}; moving to {hit.suggested} ({LABELS[hit.component]}) saves "
                        f"about {hit.saving_rate * 100:.0f}% of it, "
                        f"{monthly} {currency} a month."
                    ),
                )
            )
    if category:
        found = [r for r in found if r.category == category]
    if owner:
        found = [r for r in found if owner in (r.owner_account, r.owner_team)]
    return sorted(found, key=lambda r: (-r.monthly_saving, r.owner_account, r.current))


def _category(component: str, service: str) -> str:
    if component in ("ebs_volume_type", "s3_storage_class"):
        return "storage"
    squashed = service.lower().replace(" ", "")
    if any(name in squashed for name in DATABASES):
        return "database"
    if "sagemaker" in squashed or "bedrock" in squashed:
        return "ai"
    return "compute"


def _week_rows(binding: TeamCostBinding, week: date) -> list[tuple[str, str, str, Decimal]]:
    with connection.cursor() as cursor:
        # Index allocresult_run_value.
        cursor.execute(
            f"SELECT sub_account_id, service_name, usage_type, sum(effective_cost) "
            f"FROM {AllocationResult._meta.db_table} "
            "WHERE run_id = ANY(%s) AND value = %s AND day >= %s AND day < %s "
            "GROUP BY 1, 2, 3",
            [week_runs(binding.category, week), binding.value, week, week + timedelta(days=7)],
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
