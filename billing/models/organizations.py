"""Cloud organizations: a management (payer) account, a tree of OUs, member accounts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from portal.core.access import ScopedQuerySet

# AWS allows five levels of OUs below the root.
MAX_OU_DEPTH = 5


def customer_payer_ids(user: Any) -> models.QuerySet[Any]:
    from billing.models.customers import EndCustomer

    return EndCustomer.objects.filter(viewers=user).values("payers")


class OrganizationQuerySet(ScopedQuerySet["Organization"]):
    def for_end_customer(self, user: Any) -> OrganizationQuerySet:
        return self.filter(management_account__in=customer_payer_ids(user))


class Organization(models.Model):
    name = models.CharField(max_length=200)
    management_account = models.OneToOneField(
        "billing.Account",
        on_delete=models.PROTECT,
        related_name="managed_organization",
        null=True,
        blank=True,
        help_text="The payer account that pays for every member account.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationalUnitQuerySet(ScopedQuerySet["OrganizationalUnit"]):
    def for_end_customer(self, user: Any) -> OrganizationalUnitQuerySet:
        return self.filter(organization__management_account__in=customer_payer_ids(user))


class OrganizationalUnit(models.Model):
    """An OU; one without a parent sits directly below the organization's root."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=128)
    depth = models.PositiveSmallIntegerField(default=1, editable=False)

    objects = OrganizationalUnitQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "depth", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "parent", "name"],
                name="ou_unique_name_per_parent",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(depth__gte=1, depth__lte=MAX_OU_DEPTH), name="ou_depth_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names = [unit.name for unit in self.ancestors()] + [self.name]
        return " / ".join(names)

    def ancestors(self) -> list[OrganizationalUnit]:
        chain: list[OrganizationalUnit] = []
        unit = self.parent
        while unit is not None:
            chain.insert(0, unit)
            unit = unit.parent
        return chain

    def descendant_ids(self) -> list[int]:
        """This OU's id and every id below it."""
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(
                OrganizationalUnit.objects.filter(parent__in=frontier).values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids

    def clean(self) -> None:
        if self.parent is not None and self.parent.organization_id != self.organization_id:
            raise ValidationError({"parent": "The parent OU belongs to another organization."})


class AccountQuerySet(ScopedQuerySet["Account"]):
    def for_end_customer(self, user: Any) -> AccountQuerySet:
        from billing.models.customers import EndCustomer

        customers = EndCustomer.objects.filter(viewers=user)
        return self.filter(
            Q(pk__in=customers.values("accounts"))
            | Q(pk__in=customers.values("payers"))
            | Q(organization__management_account__in=customers.values("payers"))
        ).distinct()

    def payers(self) -> AccountQuerySet:
        return self.filter(managed_organization__isnull=False)


class Account(models.Model):
    """A cloud account: a member account, or an organization's management (payer) account."""

    provider = models.CharField(max_length=40, default="AWS")
    account_id = models.CharField(max_length=200, help_text="For AWS, the 12-digit account id.")
    name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    ou = models.ForeignKey(
        OrganizationalUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name="OU",
        help_text="Empty: the account sits at the organization's root.",
    )
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "account_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "account_id"], name="account_unique_id"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True)
                | Q(joined_on__isnull=True)
                | Q(left_on__gte=models.F("joined_on")),
                name="account_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})" if self.name else self.account_id

    @property
    def is_payer(self) -> bool:
        return hasattr(self, "managed_organization")

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.provider == "AWS" and not (
            len(self.account_id) == 12 and self.account_id.isdigit()
        ):
            errors["account_id"] = f"An AWS account id has 12 digits; {self.account_id!r} has not."
        if self.ou_id and self.ou and self.ou.organization_id != self.organization_id:
            errors["ou"] = "The OU belongs to another organization than the account."
        if self.joined_on and self.left_on and self.left_on < self.joined_on:
            errors["left_on"] = "An account cannot leave before it joined."
        if errors:
            raise ValidationError(errors)
