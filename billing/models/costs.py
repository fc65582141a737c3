"""Cost data: line items and their rollup (partitioned tables), tag sets, tag keys."""

from __future__ import annotations

from django.db import models

from portal.core.access import ScopedQuerySet
from portal.core.fields import ExactNumericField
from portal.users.roles import Role


class TagKeyQuerySet(ScopedQuerySet["TagKey"]):
    readable_by = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


class TagKey(models.Model):
    """A tag key the tenant reports on; its aliases are read as the same key."""

    name = models.CharField(max_length=128, unique=True, help_text="Canonical key, e.g. team")
    aliases = models.JSONField(
        default=list, blank=True, help_text='Other spellings, e.g. ["Team", "TEAM"]'
    )
    summarize = models.BooleanField(
        default=True, help_text="Keep daily totals per value of this key for dashboards."
    )

    objects = TagKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TagSet(models.Model):
    """One distinct set of tags; line items point here instead of repeating the JSON."""

    digest = models.CharField(max_length=64, unique=True)
    tags = models.JSONField()

    def __str__(self) -> str:
        return str(self.tags)


class CostLineItemQuerySet(ScopedQuerySet["CostLineItem"]):
    # A line item holds wholesale amounts only (billed, effective, list cost); end customers
    # see their resale through the cost explorer, never the bill's rows.
    readable_by = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


class CostLineItem(models.Model):
    """A row of a bill in FOCUS-aligned columns.

    The table is partitioned by billing period, then by payer, and written only by the
    ingest (COPY into a staging table, then attached as a partition), so Django does not
    manage it: see migration billing/migrations/0003_cost_store.py.
    """

    id = models.BigIntegerField(primary_key=True)
    billing_period_start = models.DateField()
    billing_period_end = models.DateField()
    billing_account_id = models.TextField()
    sub_account_id = models.TextField(null=True)
    sub_account_name = models.TextField(null=True)
    charge_period_start = models.DateTimeField()
    charge_period_end = models.DateTimeField()
    provider_name = models.TextField(null=True)
    service_name = models.TextField(null=True)
    service_category = models.TextField(null=True)
    region_id = models.TextField(null=True)
    availability_zone = models.TextField(null=True)
    resource_id = models.TextField(null=True)
    sku_id = models.TextField(null=True)
    charge_category = models.TextField()
    charge_class = models.TextField(null=True)
    charge_frequency = models.TextField(null=True)
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()
    contracted_cost = ExactNumericField()
    billing_currency = models.TextField()
    consumed_quantity = ExactNumericField(null=True)
    consumed_unit = models.TextField(null=True)
    pricing_quantity = ExactNumericField(null=True)
    pricing_unit = models.TextField(null=True)
    commitment_discount_id = models.TextField(null=True)
    commitment_discount_type = models.TextField(null=True)
    tag_set = models.ForeignKey(TagSet, null=True, on_delete=models.DO_NOTHING, db_constraint=False)
    x_line_item_type = models.TextField(null=True)
    x_usage_type = models.TextField(null=True)
    x_operation = models.TextField(null=True)
    x_instance_type = models.TextField(null=True)
    x_purchase_option = models.TextField(null=True)

    objects = CostLineItemQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "billing_cost_line_item"

    def __str__(self) -> str:
        return f"{self.charge_period_start:%Y-%m-%d} {self.service_name} {self.billed_cost}"


class CostRollup(models.Model):
    """A period's line items summed per day and combination of the columns rules read.

    One row per billing period, payer, day, account (id and name), service, region, charge
    category, usage type, pricing unit, operation, commitment type and tag set, with exact
    sums (operation and commitment tell the efficiency signals apart); column names are the
    line item's, so SQL written for `li.<column>` reads either. The ingest builds it while
    it reads a file (SQL groups the rows instead when an amount has too many digits) and
    publishes it with the line items, in the same transaction. Allocation runs and the
    daily summaries read it instead of the line items.

    Partitioned like the line items (by period, then payer), so replacing a payer's month
    swaps one table; see billing/migrations/0004_cost_rollup.py. `id` comes from a sequence
    and means nothing beyond identifying a row.
    """

    id = models.BigIntegerField(primary_key=True)
    billing_period_start = models.DateField()
    billing_account_id = models.TextField()
    day = models.DateField()
    sub_account_id = models.TextField(null=True)
    sub_account_name = models.TextField(null=True)
    service_name = models.TextField(null=True)
    region_id = models.TextField(null=True)
    charge_category = models.TextField()
    x_usage_type = models.TextField(null=True)
    pricing_unit = models.TextField(null=True)
    x_operation = models.TextField(null=True)
    commitment_discount_type = models.TextField(null=True)
    tag_set = models.ForeignKey(TagSet, null=True, on_delete=models.DO_NOTHING, db_constraint=False)
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    list_cost = ExactNumericField()
    contracted_cost = ExactNumericField()
    pricing_quantity = ExactNumericField(null=True)
    row_count = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "billing_cost_rollup"

    def __str__(self) -> str:
        return f"{self.day} {self.service_name} {self.billed_cost}"
