"""Billing transfers: a payer hands its organization's bill to another payer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.core.access import ScopedQuerySet


class TransferStatus(models.TextChoices):
    PENDING = "pending", "Invited"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    WITHDRAWN = "withdrawn", "Withdrawn"


class BillingTransferQuerySet(ScopedQuerySet["BillingTransfer"]):
    def for_end_customer(self, user: Any) -> BillingTransferQuerySet:
        from billing.models.customers import EndCustomer

        payers = EndCustomer.objects.filter(viewers=user).values("payers")
        return self.filter(Q(source__in=payers) | Q(destination__in=payers))

    def binding(self) -> BillingTransferQuerySet:
        """Transfers that move (or will move) billing: accepted, or withdrawn with an end."""
        return self.filter(status__in=[TransferStatus.ACCEPTED, TransferStatus.WITHDRAWN]).exclude(
            status=TransferStatus.WITHDRAWN, end_date__isnull=True
        )


class BillingTransfer(models.Model):
    """The destination payer invites the source payer to transfer its billing.

    A transfer covers whole months: it starts at 00:00 UTC on `start_date` (a 1st) and
    ends at the end of `end_date` (a month's last day), or runs on when `end_date` is
    empty. Withdrawing an accepted transfer ends it at the end of a month.
    """

    source = models.ForeignKey(
        "billing.Account",
        on_delete=models.PROTECT,
        related_name="transfers_out",
        help_text="The payer whose bill is transferred.",
    )
    destination = models.ForeignKey(
        "billing.Account",
        on_delete=models.PROTECT,
        related_name="transfers_in",
        help_text="The payer that pays the bill (payer of payers).",
    )
    status = models.CharField(
        max_length=12, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    invited_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    objects = BillingTransferQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_not_to_itself"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="transfer_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.destination} from {self.start_date:%Y-%m}"
