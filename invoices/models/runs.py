"""Invoice runs: drafting a billing period's invoices for every billing unit."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from invoices.models.plans import PLAN_READERS
from portal.core.access import ScopedQuerySet


class InvoiceRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class InvoiceRunQuerySet(ScopedQuerySet["InvoiceRun"]):
    readable_by = PLAN_READERS


class InvoiceRun(models.Model):
    period = models.DateField(help_text="The first day of the billing period's month.")
    status = models.CharField(max_length=16, choices=InvoiceRunStatus.choices, default="queued")
    issue = models.BooleanField(default=False, help_text="Issue the drafts once made.")
    units_total = models.PositiveIntegerField(default=0)
    units_done = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvoiceRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(period__day=1), name="invoicerun_period_day1")
        ]

    def __str__(self) -> str:
        return f"Invoice run {self.period:%Y-%m} ({self.status})"

    @property
    def progress_percent(self) -> int | None:
        if not self.units_total:
            return None
        return min(100, self.units_done * 100 // self.units_total)
