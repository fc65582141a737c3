"""Billing views: saved cost filters shared read-only with named users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.core.access import ScopedQuerySet
from portal.users.roles import Role

MAX_VIEW_PAYERS = 20


class BillingViewQuerySet(ScopedQuerySet["BillingView"]):
    def visible_to(self, user: Any) -> Any:
        rows = super().visible_to(user)
        if getattr(user, "role", None) == Role.ADMIN:
            return rows
        return rows.filter(Q(owner=user) | Q(shared_with=user)).distinct()

    def for_team_lead(self, user: Any) -> BillingViewQuerySet:
        return self.all()

    def for_end_customer(self, user: Any) -> BillingViewQuerySet:
        return self.all()


class BillingView(models.Model):
    """A filter over cost data: every non-empty criterion must match (empty means any)."""

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_views"
    )
    payers = models.ManyToManyField("billing.Account", blank=True, related_name="payer_views")
    accounts = models.ManyToManyField("billing.Account", blank=True, related_name="account_views")
    ous = models.ManyToManyField(
        "billing.OrganizationalUnit", blank=True, related_name="views", verbose_name="OUs"
    )
    # {"team": ["web", "data"], "env": []}: an empty list means "any value of the key".
    tags = models.JSONField(default=dict, blank=True)
    services = models.JSONField(default=list, blank=True)
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_billing_views"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BillingViewQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
