"""Summaries of the cost rollup that the cost explorer reads, rebuilt at each publish.

Both are replaced for a billing period and payer in the transaction that publishes its
line items and rollup (`billing.ingest.publish`), so they always agree with the store.
"""

from __future__ import annotations

from django.db import models

from portal.core.fields import ExactNumericField


class CostCube(models.Model):
    """Cost per day (or per month) and combination of the bill's dimensions.

    Daily rows (`monthly` false) sum over tag sets, so `tag_set` is null there; monthly
    rows (`day` = the period's first day) keep the tag set, since a month has few
    combinations. Column names are the line item's.
    """

    billing_period_start = models.DateField()
    billing_account_id = models.TextField()
    day = models.DateField()
    monthly = models.BooleanField()
    sub_account_id = models.TextField(null=True)
    service_name = models.TextField(null=True)
    region_id = models.TextField(null=True)
    charge_category = models.TextField()
    x_usage_type = models.TextField(null=True)
    tag_set = models.ForeignKey(
        "billing.TagSet", null=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()
    row_count = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["monthly", "day"], name="costcube_grain_day"),
            models.Index(
                fields=["billing_period_start", "billing_account_id"], name="costcube_load"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_name} {self.billed_cost}"


class DailyTagCost(models.Model):
    """Cost per day, account, service and value of one summarized tag key.

    Every key has rows for all cost, untagged cost under a null value, so each key's rows
    add up to the whole bill.
    """

    billing_period_start = models.DateField()
    billing_account_id = models.TextField()
    day = models.DateField()
    sub_account_id = models.TextField(null=True)
    service_name = models.TextField(null=True)
    tag_key = models.TextField()
    tag_value = models.TextField(null=True)
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()

    class Meta:
        indexes = [
            models.Index(fields=["tag_key", "day"], name="dailytagcost_key_day"),
            models.Index(
                fields=["billing_period_start", "billing_account_id"], name="dailytagcost_load"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tag_key}={self.tag_value}"
