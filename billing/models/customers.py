"""Who cost is charged to: teams and end customers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from portal.core.access import ScopedQuerySet


class TeamQuerySet(ScopedQuerySet["Team"]):
    def for_team_lead(self, user: Any) -> TeamQuerySet:
        return self.filter(Q(leads=user) | Q(members=user)).distinct()


class Team(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    leads = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="led_teams")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="member_teams",
        help_text="People who see this team's costs and score.",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EndCustomerQuerySet(ScopedQuerySet["EndCustomer"]):
    def for_end_customer(self, user: Any) -> EndCustomerQuerySet:
        return self.filter(viewers=user)


class EndCustomer(models.Model):
    """A reseller's customer: whom the reseller bills for some payers or accounts."""

    legal_name = models.CharField(max_length=200, unique=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code.")
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    payers = models.ManyToManyField(
        "billing.Account",
        blank=True,
        related_name="payer_of_customers",
        help_text="Payer accounts whose whole organization belongs to this customer.",
    )
    accounts = models.ManyToManyField(
        "billing.Account",
        blank=True,
        related_name="customers",
        help_text="Single accounts that belong to this customer.",
    )
    viewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="end_customers",
        help_text="End-customer users who see this customer's data.",
    )

    objects = EndCustomerQuerySet.as_manager()

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name

    def clean(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            raise ValidationError({"currency": "Use a three-letter ISO 4217 code such as USD."})
