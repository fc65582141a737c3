"""Ingest jobs: one request to load bill files, its progress, outcome and findings."""

from __future__ import annotations

from decimal import localcontext

from django.conf import settings
from django.db import models

from portal.core.access import ScopedQuerySet
from portal.core.fields import ExactNumericField
from portal.users.roles import Role


class IngestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    UNCHANGED = "unchanged", "Already loaded"
    FAILED = "failed", "Failed"


FINISHED = (IngestStatus.SUCCEEDED, IngestStatus.UNCHANGED, IngestStatus.FAILED)


class IngestJobQuerySet(ScopedQuerySet["IngestJob"]):
    readable_by = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


class IngestJob(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(
        max_length=10, choices=IngestStatus.choices, default=IngestStatus.QUEUED
    )
    # [{"name", "path", "size", "sha256"}] in the order given
    files = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64, db_index=True, help_text="Hash of all files")
    formats = models.JSONField(default=list, blank=True)
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_read = models.BigIntegerField(default=0)
    rows_stored = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    # Times a process started carrying it out: a retry after a killed worker is one more.
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="Why it failed, or what it did")
    notes = models.JSONField(default=list, blank=True)
    # {"file | column | message | kind": count} over every issue found, kept or not
    issue_counts = models.JSONField(default=dict, blank=True)

    objects = IngestJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        names = ", ".join(f["name"] for f in self.files[:3])
        return f"Ingest #{self.pk} ({names})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress_percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.is_finished else None
        return min(100, int(100 * self.rows_read / self.rows_total))


class IngestPeriodSum(models.Model):
    """Per billing period and payer: the source's own sums and what was stored."""

    job = models.ForeignKey(IngestJob, on_delete=models.CASCADE, related_name="period_sums")
    billing_period_start = models.DateField()
    billing_account_id = models.CharField(max_length=200)
    source_rows = models.BigIntegerField()
    stored_rows = models.BigIntegerField()
    source_billed_cost = ExactNumericField()
    stored_billed_cost = ExactNumericField()
    rejected_billed_cost = ExactNumericField()
    source_effective_cost = ExactNumericField()
    stored_effective_cost = ExactNumericField()
    rejected_effective_cost = ExactNumericField()

    class Meta:
        ordering = ["billing_period_start", "billing_account_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "billing_period_start", "billing_account_id"],
                name="ingest_period_sum_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.billing_period_start:%Y-%m} {self.billing_account_id}"

    @property
    def reconciled(self) -> bool:
        with localcontext(prec=200):  # exact: amounts have far fewer digits
            return (
                self.source_billed_cost == self.stored_billed_cost + self.rejected_billed_cost
                and self.source_effective_cost
                == self.stored_effective_cost + self.rejected_effective_cost
            )


class IngestIssue(models.Model):
    """A value the ingest rejected or interpreted (the first ones of each kind are kept)."""

    job = models.ForeignKey(IngestJob, on_delete=models.CASCADE, related_name="issues")
    kind = models.CharField(max_length=12)
    file = models.CharField(max_length=255)
    row = models.BigIntegerField()
    column = models.CharField(max_length=255)
    value = models.TextField(blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column}: {self.message}"


class LoadedPeriodQuerySet(ScopedQuerySet["LoadedPeriod"]):
    readable_by = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


class LoadedPeriod(models.Model):
    """The data now stored for one billing period and payer, and the ingest that loaded it."""

    billing_period_start = models.DateField()
    billing_account_id = models.CharField(max_length=200)
    job = models.ForeignKey(IngestJob, on_delete=models.PROTECT, related_name="loaded_periods")
    table_name = models.CharField(max_length=63)
    rows = models.BigIntegerField()
    billed_cost = ExactNumericField()
    effective_cost = ExactNumericField()
    currencies = models.JSONField(default=list, help_text='The bill\'s currencies, e.g. ["USD"].')
    tag_keys = models.JSONField(
        default=list, help_text="The tag keys the explorer's daily tag cost holds for it."
    )
    payer_of_record = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who pays this month's bill: the payer itself, or the end of its chain of "
        "billing transfers in force that month.",
    )
    payer_chain = models.JSONField(
        default=list, blank=True, help_text="The payer, then each payer upstream of it."
    )
    loaded_at = models.DateTimeField(auto_now=True)

    objects = LoadedPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-billing_period_start", "billing_account_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["billing_period_start", "billing_account_id"], name="loaded_period_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.billing_period_start:%Y-%m} {self.billing_account_id}"
