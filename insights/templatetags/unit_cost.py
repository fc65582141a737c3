"""Cost per unit on pages: `{% team_unit_cost_card team %}` on a team's page, and
`{% teams_unit_cost today as found %}` for a team lead's home page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.utils.timezone import localdate

from insights import unit_cost
from insights.metric_rows import example_csv
from insights.metrics import writable_teams
from insights.views.metrics import MetricUploadForm

register = template.Library()


@register.inclusion_tag("insights/_team_unit_cost.html", takes_context=True)
def team_unit_cost_card(context: dict[str, Any], team: Any) -> dict[str, Any]:
    user = context["request"].user
    figures = unit_cost.team_unit_cost(user=user, team=team, today=localdate())
    return {
        "request": context["request"],
        "team": team,
        "unit": figures,
        "chart": figures.chart_json() if figures.metrics else None,
        "may_upload": writable_teams(user).filter(pk=team.pk).exists(),
        "form": MetricUploadForm(),
        "example": example_csv(team.name),
    }


@register.simple_tag(takes_context=True)
def teams_unit_cost(
    context: dict[str, Any], today: date | None = None
) -> list[unit_cost.TeamUnitCost]:
    return unit_cost.teams_unit_cost(user=context["request"].user, today=today or localdate())
