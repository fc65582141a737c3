"""What the explorer needs beyond the bill and the allocation: which cost is a team's."""

from __future__ import annotations

from django.db import models

from portal.core.access import ScopedQuerySet


class TeamCostBindingQuerySet(ScopedQuerySet["TeamCostBinding"]):
    def for_team_lead(self, user: object) -> TeamCostBindingQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class TeamCostBinding(models.Model):
    """A team's cost: what the latest allocation runs give one value of a cost category.

    All teams are bound to values of one category, so that no cost is any two teams'.
    """

    team = models.OneToOneField(
        "billing.Team", on_delete=models.CASCADE, related_name="cost_binding"
    )
    category = models.ForeignKey(
        "allocation.CostCategory", on_delete=models.PROTECT, related_name="team_bindings"
    )
    value = models.CharField(
        max_length=200, help_text="The category value whose cost is the team's."
    )

    objects = TeamCostBindingQuerySet.as_manager()

    class Meta:
        ordering = ["team__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "value"], name="teambinding_one_team_per_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} = {self.category} {self.value!r}"
