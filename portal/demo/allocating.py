"""Demo cost categories: rules in force from the demo's first month, and every loaded month
allocated again whenever its costs were loaded after its last allocation."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max

from allocation.engine.run import allocation_run_now
from allocation.models import AllocationRun, CostCategory, RunStatus
from allocation.services import cost_category_create, ruleset_create
from billing.models import LoadedPeriod


def loaded_months() -> list[date]:
    months = LoadedPeriod.objects.values_list("billing_period_start", flat=True).distinct()
    return sorted(months)


@transaction.atomic
def ensure_category(
    *,
    actor: Any,
    name: str,
    default_value: str,
    rules: list[dict[str, Any]],
    splits: list[dict[str, Any]] | None = None,
    made: Any,
) -> CostCategory:
    """The category, with a version of `rules` in force from the first loaded month on
    (added when its versions start later: a demo loaded before its earlier months were)."""
    category = CostCategory.objects.filter(name=name).first()
    if category is None:
        category = cost_category_create(actor=actor, name=name, default_value=default_value)
        made(f"cost category {name}")
    first = loaded_months()[0]
    if not category.versions.filter(effective_month__lte=first).exists():
        ruleset_create(
            actor=actor, category=category, effective_month=first, rules=rules, splits=splits
        )
        made(f"rules of {name} from {first:%Y-%m}")
    return category


def allocate_loaded_months(*, actor: Any, category: CostCategory, made: Any) -> None:
    """Each loaded month not allocated since its bills were (last) loaded."""
    loaded = (
        LoadedPeriod.objects.values("billing_period_start")
        .annotate(last=Max("loaded_at"))
        .order_by("billing_period_start")
    )
    for month in loaded:
        period, last_loaded = month["billing_period_start"], month["last"]
        allocated = AllocationRun.objects.filter(
            category=category, period=period, status=RunStatus.SUCCEEDED, started_at__gt=last_loaded
        )
        if allocated.exists():
            continue
        # Each run commits on its own; a failed one is recorded as such and raises.
        allocation_run_now(actor=actor, category=category, period=period)
        made(f"allocation of {category.name} for {period:%Y-%m}")
