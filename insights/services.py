"""Writes of the insights app: which cost is a team's."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from allocation.models import CostCategory
from billing.models import Team
from insights.models import TeamCostBinding
from portal.audit.services import audit_record, audited_create, audited_delete, snapshot
from portal.core.errors import ApplicationError


@transaction.atomic
def team_cost_binding_set(
    *, actor: Any, team: Team, category: CostCategory, value: str
) -> TeamCostBinding:
    """Bind `team` to a value of `category` (all teams share one category)."""
    value = (value or "").strip()
    if not value:
        raise ApplicationError(
            "Name the category value whose cost is the team's.", code="required", field="value"
        )
    other = (
        TeamCostBinding.objects.select_for_update()
        .exclude(team=team)
        .exclude(category=category)
        .select_related("category", "team")
        .first()
    )
    if other is not None:
        raise ApplicationError(
            f"Teams are bound to values of the category {other.category.name!r} (e.g. "
            f"{other.team.name}); bind this team to one of its values too, so that no cost "
            "counts for two teams.",
            code="other_category",
            field="category",
        )
    taken = TeamCostBinding.objects.filter(category=category, value=value).exclude(team=team)
    if taken.exists():
        raise ApplicationError(
            f"The value {value!r} is already the team {taken.get().team.name}'s.",
            code="taken",
            field="value",
        )
    binding = TeamCostBinding.objects.select_for_update().filter(team=team).first()
    if binding is None:
        return audited_create(
            actor=actor, instance=TeamCostBinding(team=team, category=category, value=value)
        )
    before = snapshot(binding)
    binding.category, binding.value = category, value
    binding.full_clean()
    binding.save()
    audit_record(
        actor=actor,
        action="teamcostbinding.update",
        instance=binding,
        before=before,
        after=snapshot(binding),
    )
    return binding


@transaction.atomic
def team_cost_binding_remove(*, actor: Any, team: Team) -> None:
    binding = TeamCostBinding.objects.filter(team=team).first()
    if binding is not None:
        audited_delete(actor=actor, instance=binding)
