"""Writes of the insights app: which cost is a team's."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from allocation.models import CostCategory
from billing.models import Team
from insights.models import TeamCostBinding, TeamScore
from insights.scores.compute import score_week, week_rows, week_start
from insights.scores.recommendations import week_recommendations
from portal.audit.services import audit_record, audited_create, audited_delete, snapshot
from portal.core.errors import ApplicationError

# The largest recommendations kept with a week's score, for the home pages.
STORED_RECOMMENDATIONS = 10


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


@transaction.atomic
def team_scores_compute(
    *, actor: Any, week: date, team_ids: list[int] | None = None
) -> list[TeamScore]:
    """Compute (or compute again, after a restated bill) the scores of the week that
    holds `week`, replacing what was stored for it."""
    monday = week_start(week)
    stored = []
    found = TeamCostBinding.objects.select_related("category", "team")
    if team_ids is not None:
        found = found.filter(team_id__in=team_ids)
    bindings = list(found)
    rows = week_rows(bindings, monday)
    advice = week_recommendations(bindings, monday, rows)
    for computed in score_week(monday, team_ids, rows):
        kept = advice.get(computed.team_id, [])[:STORED_RECOMMENDATIONS]
        score, _ = TeamScore.objects.update_or_create(
            team_id=computed.team_id,
            week=monday,
            defaults={
                "score": computed.score,
                "components": [c.as_dict() for c in computed.components],
                "recommendations": [r.as_dict() for r in kept],
            },
        )
        stored.append(score)
    if stored:
        audit_record(
            actor=actor,
            action="teamscore.compute",
            instance=stored[0],
            after={
                "week": f"{monday:%G-W%V}",
                "scores": {
                    str(s.team_id): None if s.score is None else str(s.score) for s in stored
                },
            },
        )
    return stored
