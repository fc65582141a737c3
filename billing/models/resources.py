"""What each resource cost in a week: where recommendations find the resource ids.

The rollup keeps no resource ids (they would multiply its rows); this table keeps, for the
usage line items that name a resource, their amortized cost per ISO week (Monday, UTC) and
combination of the columns allocation rules and efficiency signals read, so that a team's
recommendation can name the resources behind it. Rebuilt with the explorer's summaries
when a payer's month is published.
"""

from __future__ import annotations

from django.db import models

from portal.core.fields import ExactNumericField


class ResourceWeekCost(models.Model):
    billing_period_start = models.DateField()
    billing_account_id = models.TextField()
    week = models.DateField(help_text="The Monday the week starts on (UTC).")
    sub_account_id = models.TextField(null=True)
    sub_account_name = models.TextField(null=True)
    service_name = models.TextField(null=True)
    region_id = models.TextField(null=True)
    charge_category = models.TextField()
    x_usage_type = models.TextField(null=True)
    x_operation = models.TextField(null=True)
    commitment_discount_type = models.TextField(null=True)
    tag_set_id = models.BigIntegerField(null=True)
    resource_id = models.TextField()
    effective_cost = ExactNumericField()
    row_count = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["billing_period_start", "week", "sub_account_id"],
                name="resourceweek_period_week",
            ),
            models.Index(
                fields=["billing_period_start", "billing_account_id"], name="resourceweek_load"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.resource_id} {self.effective_cost}"
