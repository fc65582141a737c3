"""Summaries of the cost rollup that the cost explorer reads, rebuilt at each publish.

Both tables hold several grains, each the bill summed over the dimensions it does not
keep (those columns are null in its rows): a query reads the smallest grain that keeps
every dimension it uses, a few thousand rows a month instead of the rollup's million.
They are replaced for a billing period and payer in the transaction that publishes its
line items and rollup (`billing.ingest.publish`), so they always agree with the store.
"""

from __future__ import annotations

from django.db import models

from portal.core.fields import ExactNumericField

# The columns each grain keeps besides the day (line item column names), smallest first.
# "day" keeps them all; "month" is one row per month that also keeps the tag set.
ALL_CUBE_COLUMNS = (
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "region_id",
    "charge_category",
    "x_usage_type",
)
DAILY_GRAINS = {
    "day_service": ("billing_account_id", "service_name", "region_id", "charge_category"),
    "day_account": ("billing_account_id", "sub_account_id", "region_id", "charge_category"),
    "day_usage": ("billing_account_id", "service_name", "x_usage_type", "charge_category"),
    # What resale needs (the account's plan, its service and usage type), without regions.
    "day_priced": (
        "billing_account_id",
        "sub_account_id",
        "service_name",
        "x_usage_type",
        "charge_category",
    ),
    "day": ALL_CUBE_COLUMNS,
}
MONTHLY_GRAIN = "month"
# Two keys at once ("tag_pair"): tag_key < pair_key, with the payer and charge category.
TAG_PAIR_GRAIN = "tag_pair"
TAG_GRAINS = {
    "tag": ("billing_account_id", "charge_category"),
    "tag_service": ("billing_account_id", "service_name", "charge_category"),
    "tag_account": ("billing_account_id", "sub_account_id", "service_name", "charge_category"),
}


class CostCube(models.Model):
    """Cost per day (or month) and combination of the dimensions its grain keeps."""

    billing_period_start = models.DateField()
    billing_account_id = models.TextField()
    grain = models.CharField(max_length=16)
    day = models.DateField(help_text="The period's first day in the monthly grain.")
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
            models.Index(fields=["grain", "day"], name="costcube_grain_day"),
            # An end customer's accounts among many.
            models.Index(fields=["grain", "sub_account_id", "day"], name="costcube_grain_account"),
            models.Index(
                fields=["billing_period_start", "billing_account_id"], name="costcube_load"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day} {self.service_name} {self.billed_cost}"


class DailyTagCost(models.Model):
    """Cost per day and value of one summarized tag key, in the dimensions its grain keeps.

    Every key has rows for all cost, untagged cost under a null value, so each key's rows
    add up to the whole bill.
    """

    billing_period_start = models.DateField()
    billing_account_id = models.TextField()
    grain = models.CharField(max_length=16)
    day = models.DateField()
    sub_account_id = models.TextField(null=True)
    service_name = models.TextField(null=True)
    charge_category = models.TextField()
    tag_key = models.TextField()
    tag_value = models.TextField(null=True)
    pair_key = models.TextField(null=True, help_text='The second key, in the "tag_pair" grain.')
    pair_value = models.TextField(null=True)
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()

    class Meta:
        indexes = [
            models.Index(fields=["grain", "tag_key", "day"], name="dailytagcost_grain_key_day"),
            models.Index(
                fields=["billing_period_start", "billing_account_id"], name="dailytagcost_load"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day} {self.tag_key}={self.tag_value}"
