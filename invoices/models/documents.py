"""Invoices and credit notes (one model, two kinds), their lines and their numbering.

A document is a draft until issued; issuing gives it the next number of its kind and
year and freezes it. The database enforces the freeze too (triggers in migration 0002):
an issued document's lines and amounts cannot change; only its status may move on
(paid, void) and its PDF be stored once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from invoices.models.plans import CostBasis, money_field, percent_field
from invoices.models.units import BillingUnit
from portal.core.access import ScopedQuerySet
from portal.core.fields import ExactNumericField
from portal.users.roles import Role

DOCUMENT_READERS = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN, Role.END_CUSTOMER})


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


FINAL_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PAID, InvoiceStatus.VOID)


class InvoiceQuerySet(ScopedQuerySet["Invoice"]):
    readable_by = DOCUMENT_READERS

    def for_end_customer(self, user: Any) -> InvoiceQuerySet:
        """Only the issued documents of the units billed to the user's customers."""
        return self.filter(unit__end_customer__viewers=user, status__in=FINAL_STATUSES)

    def issued(self) -> InvoiceQuerySet:
        return self.filter(status__in=FINAL_STATUSES)


class Invoice(models.Model):
    kind = models.CharField(max_length=16, choices=DocumentKind.choices, default="invoice")
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default="draft")
    unit = models.ForeignKey(BillingUnit, on_delete=models.PROTECT, related_name="invoices")
    run = models.ForeignKey(
        "invoices.InvoiceRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    original = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        help_text="The invoice a credit note corrects.",
    )
    allocation_run = models.ForeignKey(
        "allocation.AllocationRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The allocation its costs come from.",
    )
    period = models.DateField(help_text="The first day of the billing period's month.")
    currency = models.CharField(max_length=3)
    cost_basis = models.CharField(max_length=16, choices=CostBasis.choices)
    plan_name = models.CharField(max_length=100, blank=True)
    number = models.CharField(max_length=40, null=True, blank=True, unique=True)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    seller_name = models.CharField(max_length=200, blank=True)
    seller_address = models.TextField(blank=True)
    seller_tax_id = models.CharField(max_length=50, blank=True)
    payment_details = models.TextField(blank=True)
    buyer_name = models.CharField(max_length=200)
    buyer_address = models.TextField(blank=True)
    buyer_tax_id = models.CharField(max_length=50, blank=True)
    subtotal = money_field(default=0)
    tax_total = money_field(default=0)
    total = money_field(default=0)
    wholesale_total = ExactNumericField(default=0, help_text="The priced cost column's sum.")
    taxes = models.JSONField(default=list, blank=True, help_text="[{rate, base, tax}] per rate.")
    payers_of_record = models.JSONField(
        default=list,
        blank=True,
        help_text="[{payer, name, bills, wholesale}]: who paid the cloud provider for its cost.",
    )
    reason = models.TextField(blank=True, help_text="Why a credit note was issued.")
    pdf = models.FileField(upload_to="invoices/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=200, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "unit__name", "kind", "number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
                name="invoice_numbered_when_issued",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", original__isnull=True)
                | models.Q(kind="credit_note", original__isnull=False),
                name="invoice_credit_note_has_original",
            ),
            models.CheckConstraint(
                condition=models.Q(period__day=1), name="invoice_period_first_day"
            ),
        ]
        indexes = [models.Index(fields=["period", "status"], name="invoice_period_status")]

    def __str__(self) -> str:
        label = self.number or f"draft {self.pk}"
        return f"{self.get_kind_display()} {label} ({self.buyer_name})"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def margin(self) -> Any:
        """What it adds to the seller's margin; a credit note takes its subtotal off."""
        if self.kind == DocumentKind.CREDIT_NOTE:
            return -self.subtotal
        return self.subtotal - self.wholesale_total


class LineKind(models.TextChoices):
    USAGE = "usage", "Usage"
    SHARED = "shared", "Shared cost"
    FEE = "fee", "Fee"
    CREDIT = "credit", "Credit"
    CORRECTION = "correction", "Correction"


class InvoiceLine(models.Model):
    """One priced line: the wholesale cost from the bill beside the amount invoiced."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    service_name = models.TextField(blank=True)
    usage_type = models.TextField(blank=True)
    description = models.TextField()
    split_from = models.TextField(blank=True, help_text="The value a shared cost came from.")
    quantity = ExactNumericField(null=True, blank=True)
    pricing_unit = models.TextField(blank=True)
    wholesale_amount = ExactNumericField(default=0, help_text="In the plan's cost column.")
    billed_cost = ExactNumericField(default=0)
    effective_cost = ExactNumericField(default=0)
    list_cost = ExactNumericField(default=0)
    percent = percent_field(null=True, blank=True)
    price_rule = models.CharField(max_length=300, blank=True, help_text="The rule that priced it.")
    amount = money_field()
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="line_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"

    @property
    def margin(self) -> Any:
        return self.amount - self.wholesale_amount


class NumberSequence(models.Model):
    """The last number given to a kind of document in a year; its row is the lock."""

    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="sequence_one_per_kind_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"
