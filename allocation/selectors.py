"""Reading cost categories and the rule versions in force."""

from __future__ import annotations

from datetime import date
from typing import Any

from allocation.models import CostCategory, RuleSet


def ruleset_for(*, category: CostCategory, period: date) -> RuleSet | None:
    """The version of `category` in force for the month of `period`, rules loaded."""
    version = category.version_for(period)
    if version is None:
        return None
    return RuleSet.objects.prefetch_related("rules", "splits").get(pk=version.pk)


def ruleset_data(ruleset: RuleSet) -> dict[str, Any]:
    """A version as plain data: what the audit log keeps and the API shows."""
    return {
        "id": ruleset.pk,
        "category": ruleset.category.name,
        "number": ruleset.number,
        "effective_month": ruleset.effective_month.isoformat(),
        "rules": [
            {
                "position": rule.position,
                "kind": rule.kind,
                "value": rule.value,
                "expression": rule.expression,
                "inherit_from": rule.inherit_from,
            }
            for rule in ruleset.rules.all()
        ],
        "splits": [
            {
                "position": split.position,
                "source": split.source,
                "method": split.method,
                "targets": split.targets,
            }
            for split in ruleset.splits.all()
        ],
    }
