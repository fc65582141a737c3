"""REST shapes of the organization tree, transfers, billing views, teams and customers.

Output serializers render rows; input serializers only check the shape of a request.
Every reference to another row goes through `VisibleRelatedField`, so a user can only
name rows that `visible_to(user)` lets them see: any other id reads as "does not exist".
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    Organization,
    OrganizationalUnit,
    Team,
)
from billing.selectors import OUNode, organization_tree
from portal.users.models import User


class VisibleRelatedField(serializers.PrimaryKeyRelatedField[Any]):
    """A row by id, chosen among those the requesting user may see."""

    def get_queryset(self) -> models.QuerySet[Any]:
        request = self.context.get("request")
        rows: Any = super().get_queryset()
        return rows.visible_to(getattr(request, "user", None))


# Output ------------------------------------------------------------------------------


class AccountRefSerializer(serializers.ModelSerializer[Account]):
    class Meta:
        model = Account
        fields = ["id", "provider", "account_id", "name"]


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    management_account = AccountRefSerializer(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "management_account", "created_at"]


def _node_data(node: OUNode) -> dict[str, Any]:
    return {
        "id": node.ou.pk,
        "name": node.ou.name,
        "accounts": AccountRefSerializer(node.accounts, many=True).data,
        "children": [_node_data(child) for child in node.children],
    }


class OrganizationDetailSerializer(OrganizationSerializer):
    """An organization with its OU tree and the accounts in it."""

    tree = serializers.SerializerMethodField()

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "tree"]

    def get_tree(self, organization: Organization) -> dict[str, Any]:
        tree = organization_tree(organization=organization)
        return {
            "accounts": AccountRefSerializer(tree.accounts, many=True).data,
            "units": [_node_data(node) for node in tree.units],
        }


class OUSerializer(serializers.ModelSerializer[OrganizationalUnit]):
    class Meta:
        model = OrganizationalUnit
        fields = ["id", "organization", "parent", "name", "depth"]


class AccountSerializer(serializers.ModelSerializer[Account]):
    is_payer = serializers.BooleanField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "provider",
            "account_id",
            "name",
            "organization",
            "ou",
            "joined_on",
            "left_on",
            "is_payer",
        ]


class TransferSerializer(serializers.ModelSerializer[BillingTransfer]):
    # DRF's stubs type `Field.source` and `Field.parent` as attributes of every field; the
    # serializer metaclass takes declared fields off the class, so these names are fine.
    source = AccountRefSerializer(read_only=True)  # type: ignore[assignment]
    destination = AccountRefSerializer(read_only=True)
    invited_by = serializers.SlugRelatedField[User](
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = BillingTransfer
        fields = [
            "id",
            "source",
            "destination",
            "status",
            "start_date",
            "end_date",
            "note",
            "invited_at",
            "invited_by",
            "responded_at",
        ]


class BillingViewSerializer(serializers.ModelSerializer[BillingView]):
    owner = serializers.SlugRelatedField[User](slug_field="username", read_only=True)

    class Meta:
        model = BillingView
        fields = [
            "id",
            "name",
            "owner",
            "payers",
            "accounts",
            "ous",
            "tags",
            "services",
            "shared_with",
            "created_at",
        ]


class TeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["id", "name", "description", "leads", "members"]


class EndCustomerSerializer(serializers.ModelSerializer[EndCustomer]):
    class Meta:
        model = EndCustomer
        fields = [
            "id",
            "legal_name",
            "address",
            "tax_id",
            "currency",
            "contact_name",
            "contact_email",
            "payers",
            "accounts",
            "viewers",
        ]


# Input -------------------------------------------------------------------------------


def _accounts(**kwargs: Any) -> VisibleRelatedField:
    return VisibleRelatedField(queryset=Account.objects.all(), **kwargs)


def _units(**kwargs: Any) -> VisibleRelatedField:
    return VisibleRelatedField(queryset=OrganizationalUnit.objects.all(), **kwargs)


def _users(**kwargs: Any) -> VisibleRelatedField:
    return VisibleRelatedField(queryset=User.objects.all(), many=True, required=False, **kwargs)


class OrganizationCreateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    management_account_id = serializers.CharField(max_length=200)
    management_account_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
    provider = serializers.CharField(max_length=40, required=False)


class OrganizationUpdateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH is partial, but the name is all there is to change.
        if "name" not in attrs:
            raise serializers.ValidationError({"name": ["Name the organization."]})
        return attrs


class OUCreateInputSerializer(serializers.Serializer[Any]):
    organization = VisibleRelatedField(queryset=Organization.objects.all())
    name = serializers.CharField(max_length=128)
    parent = _units(required=False, allow_null=True)  # type: ignore[assignment]


class OUUpdateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=128, required=False)
    parent = _units(required=False, allow_null=True)  # type: ignore[assignment]


class AccountUpdateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organization = VisibleRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    ou = _units(required=False, allow_null=True)
    joined_on = serializers.DateField(required=False, allow_null=True)
    left_on = serializers.DateField(required=False, allow_null=True)


class AccountCreateInputSerializer(AccountUpdateInputSerializer):
    account_id = serializers.CharField(max_length=200)
    provider = serializers.CharField(max_length=40, required=False)


class TransferInviteInputSerializer(serializers.Serializer[Any]):
    source = _accounts(help_text="The payer whose bill is transferred.")  # type: ignore[assignment]
    destination = _accounts(help_text="The payer that pays the bill.")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TransferWithdrawInputSerializer(serializers.Serializer[Any]):
    end_date = serializers.DateField(required=False, allow_null=True)


class BillingViewInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    payers = _accounts(many=True, required=False)
    accounts = _accounts(many=True, required=False)
    ous = _units(many=True, required=False)
    tags = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    services = serializers.ListField(child=serializers.CharField(), required=False)
    shared_with = _users()


class TeamInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    leads = _users()
    members = _users()


class EndCustomerInputSerializer(serializers.Serializer[Any]):
    legal_name = serializers.CharField(max_length=200)
    address = serializers.CharField(required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    currency = serializers.CharField(max_length=3, required=False)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    payers = _accounts(many=True, required=False)
    accounts = _accounts(many=True, required=False)
    viewers = _users()
