"""The order to allocate categories in: a category after the categories its rules read."""

from __future__ import annotations

from datetime import date

from allocation.expressions import referenced_categories
from allocation.models import CostCategory


def categories_in_dependency_order(period: date) -> list[CostCategory]:
    """Every category, each after those its version in force for `period` looks at.

    Ties keep name order. The rules service refuses cycles, so every category is placed.
    """
    categories = list(CostCategory.objects.order_by("name"))
    known = {category.name for category in categories}
    reads: dict[str, set[str]] = {}
    for category in categories:
        version = category.version_for(period)
        rules = list(version.rules.all()) if version is not None else []
        names = {
            n for rule in rules if rule.expression for n in referenced_categories(rule.expression)
        }
        reads[category.name] = (names & known) - {category.name}
    placed: list[CostCategory] = []
    done: set[str] = set()
    while len(placed) < len(categories):
        waiting = [c for c in categories if c.name not in done]
        ready = [c for c in waiting if reads[c.name] <= done]
        # A cycle written around the rules service: the rest keeps name order.
        chosen = ready[0] if ready else waiting[0]
        placed.append(chosen)
        done.add(chosen.name)
    return placed
