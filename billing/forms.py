"""Forms of the billing pages: they check the shape of input; services decide the rest.

Every choice of another row is limited to what the user may see (`ScopedForm`).
"""

from __future__ import annotations

from typing import Any

from django import forms

from billing.models import Account, Organization, OrganizationalUnit
from portal.users.models import User
from portal.users.roles import Role

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MULTI_HINT = "Ctrl-click (⌘-click on a Mac) to choose several."


class ScopedForm(forms.Form):
    """A form whose row choices come from `visible_to(user)` of their model."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.visible_to(user)  # type: ignore[union-attr]
            if isinstance(field, forms.ModelMultipleChoiceField):
                field.help_text = f"{field.help_text} {MULTI_HINT}".strip()


class UnitChoiceField(forms.ModelChoiceField[OrganizationalUnit]):
    """An OU named by its organization and path, e.g. "Acme: Prod / Web"."""

    def __init__(self, **kwargs: Any) -> None:
        rows = OrganizationalUnit.objects.select_related(
            "organization", "parent__parent__parent__parent"
        )
        super().__init__(queryset=rows, **kwargs)

    def label_from_instance(self, obj: OrganizationalUnit) -> str:
        return f"{obj.organization.name}: {obj.path}"


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField[OrganizationalUnit]):
    def __init__(self, **kwargs: Any) -> None:
        rows = OrganizationalUnit.objects.select_related(
            "organization", "parent__parent__parent__parent"
        )
        super().__init__(queryset=rows, **kwargs)

    def label_from_instance(self, obj: OrganizationalUnit) -> str:
        return f"{obj.organization.name}: {obj.path}"


class TagsField(forms.Field):
    """Tag filters, one key a line: `team: web, data`; a key alone matches any value."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return "\n".join(
                f"{key}: {', '.join(values)}" if values else key for key, values in value.items()
            )
        return value

    def to_python(self, value: Any) -> dict[str, list[str]]:
        tags: dict[str, list[str]] = {}
        for line in str(value or "").splitlines():
            key, _, values = line.partition(":")
            if not key.strip():
                if line.strip():
                    raise forms.ValidationError(f"The line {line.strip()!r} names no tag key.")
                continue
            tags[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
        return tags


class LinesField(forms.Field):
    """A list of names, one a line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def _payers(**kwargs: Any) -> forms.ModelMultipleChoiceField[Account]:
    return forms.ModelMultipleChoiceField(
        queryset=Account.objects.payers(), required=False, **kwargs
    )


def _accounts(**kwargs: Any) -> forms.ModelMultipleChoiceField[Account]:
    return forms.ModelMultipleChoiceField(queryset=Account.objects.all(), required=False, **kwargs)


def _users(**kwargs: Any) -> forms.ModelMultipleChoiceField[User]:
    return forms.ModelMultipleChoiceField(queryset=User.objects.all(), required=False, **kwargs)


class OrganizationCreateForm(ScopedForm):
    name = forms.CharField(max_length=200)
    provider = forms.CharField(max_length=40, initial="AWS")
    management_account_id = forms.CharField(
        max_length=200,
        label="Management account id",
        help_text="The payer account; for AWS, its 12-digit id.",
    )
    management_account_name = forms.CharField(
        max_length=200, required=False, label="Management account name"
    )


class OrganizationChangeForm(ScopedForm):
    name = forms.CharField(max_length=200)


class OUCreateForm(ScopedForm):
    organization = forms.ModelChoiceField(queryset=Organization.objects.all())
    parent = UnitChoiceField(required=False, help_text="Empty: directly below the root.")
    name = forms.CharField(max_length=128)


class OUChangeForm(ScopedForm):
    name = forms.CharField(max_length=128)
    parent = UnitChoiceField(required=False, help_text="Empty: directly below the root.")


class AccountChangeForm(ScopedForm):
    name = forms.CharField(max_length=200, required=False)
    organization = forms.ModelChoiceField(queryset=Organization.objects.all(), required=False)
    ou = UnitChoiceField(
        required=False, label="OU", help_text="Empty: the account sits at the organization's root."
    )
    joined_on = forms.DateField(required=False, widget=DATE)
    left_on = forms.DateField(required=False, widget=DATE)


class AccountCreateForm(AccountChangeForm):
    field_order = ["provider", "account_id", "name"]

    provider = forms.CharField(max_length=40, initial="AWS")
    account_id = forms.CharField(max_length=200, help_text="For AWS, the 12-digit account id.")


class TransferInviteForm(ScopedForm):
    source = forms.ModelChoiceField(
        queryset=Account.objects.payers(), help_text="The payer whose bill is transferred."
    )
    destination = forms.ModelChoiceField(
        queryset=Account.objects.payers(), help_text="The payer that pays the bill."
    )
    start_date = forms.DateField(widget=DATE, help_text="The first day of a month.")
    end_date = forms.DateField(
        required=False, widget=DATE, help_text="A month's last day; empty: runs on."
    )
    note = forms.CharField(max_length=500, required=False)


class TransferWithdrawForm(ScopedForm):
    end_date = forms.DateField(
        required=False,
        widget=DATE,
        label="Ends on",
        help_text=(
            "A month's last day. Empty: it ends with this month, or never starts if it has "
            "not started yet."
        ),
    )


class BillingViewForm(ScopedForm):
    name = forms.CharField(max_length=200)
    payers = _payers(help_text="Up to 20 payers.")
    accounts = _accounts()
    ous = UnitMultipleChoiceField(required=False, label="OUs")
    tags = TagsField(
        required=False, help_text="One tag key a line, e.g. “team: web, data”; “env” alone: any."
    )
    services = LinesField(required=False, help_text="One service name a line.")
    shared_with = _users(help_text="People who may read this view.")


class TeamForm(ScopedForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    leads = _users()
    members = _users(help_text="People who see this team's costs and score.")


class EndCustomerForm(ScopedForm):
    legal_name = forms.CharField(max_length=200)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax id")
    currency = forms.CharField(max_length=3, initial="USD", help_text="ISO 4217 code.")
    contact_name = forms.CharField(max_length=200, required=False)
    contact_email = forms.EmailField(required=False)
    payers = _payers(help_text="Payer accounts whose whole organization belongs to them.")
    accounts = _accounts(help_text="Single accounts that belong to them.")
    viewers = _users(help_text="End-customer users who see this customer's data.")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        viewers = self.fields["viewers"]
        assert isinstance(viewers, forms.ModelMultipleChoiceField)
        viewers.queryset = viewers.queryset.filter(role=Role.END_CUSTOMER)  # type: ignore[union-attr]
