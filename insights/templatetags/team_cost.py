"""`{% team_cost_binding team %}`: which cost is a team's, on its page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from billing.apis import TEAM_WRITERS
from insights.models import TeamCostBinding
from portal.core.permissions import may_write

register = template.Library()


@register.simple_tag(takes_context=True)
def team_cost_binding(context: dict[str, Any], team: Any) -> str:
    user = context["request"].user
    binding = TeamCostBinding.objects.filter(team=team).select_related("category").first()
    change = ""
    if may_write(user, TEAM_WRITERS):
        url = reverse("team-cost-binding", args=[team.pk])
        change = format_html(' <a href="{}">{}</a>', url, "Change" if binding else "Set it")
    if binding is None:
        return format_html(
            '<p class="muted">This team has no cost yet: it is bound to no cost category '
            "value.{}</p>",
            change,
        )
    return format_html(
        "<p>Its cost: what the latest allocation runs give <strong>{}</strong> of the category "
        "<strong>{}</strong>, splits included.{}</p>",
        binding.value,
        binding.category.name,
        change,
    )
