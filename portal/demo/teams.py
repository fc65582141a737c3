"""The demo's "Team" category: the `team` tag's values gathered into the three demo teams,
untagged costs shared among them in proportion to their own, each team bound to its value
(so team leads and the home page see the team's cost)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from allocation.models import CostCategory
from billing.models import Team
from insights.models import TeamCostBinding
from insights.services import team_cost_binding_set
from portal.demo import data
from portal.demo.allocating import allocate_loaded_months, ensure_category


def team_rules() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rules (a value per group of tag values) and the split of the shared value."""
    rules = [
        {"value": value, "expression": {"field": "tag", "key": "team", "op": "one_of",
                                        "values": list(tags)}}
        for value, tags in data.TEAM_VALUES
    ]  # fmt: skip
    split = {
        "source": data.SHARED_VALUE,
        "method": "proportional",
        "targets": [{"value": value} for value, _ in data.TEAM_VALUES],
    }
    return rules, [split]


def ensure_team_costs(*, actor: Any, made: Any) -> CostCategory:
    """The category, every loaded month allocated, and the demo teams bound to it."""
    rules, splits = team_rules()
    category = ensure_category(
        actor=actor,
        name=data.TEAM_CATEGORY,
        default_value=data.SHARED_VALUE,
        rules=rules,
        splits=splits,
        made=made,
    )
    allocate_loaded_months(actor=actor, category=category, made=made)
    with transaction.atomic():
        for spec in data.TEAMS:
            team = Team.objects.filter(name=spec.name).first()
            if team is None or TeamCostBinding.objects.filter(team=team).exists():
                continue
            team_cost_binding_set(actor=actor, team=team, category=category, value=spec.name)
            made(f"team {spec.name} bound to {category.name} {spec.name!r}")
    return category
