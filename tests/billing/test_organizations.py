"""Organizations and accounts, written through the services, and the organization tree.

OUs: `test_ous`."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Account, Organization
from billing.selectors import organization_tree
from billing.services import (
    account_create,
    account_update,
    organization_create,
    organization_update,
    ou_create,
)
from portal.audit.models import AuditEntry
from portal.users.models import User
from tests.billing.helpers import audit_values, refused, unchanged

pytestmark = pytest.mark.usefixtures("tenant_a")

# Organizations


def test_creating_an_organization_creates_its_payer_account_and_one_audit_entry(
    admin_a: User,
) -> None:
    org = organization_create(
        actor=admin_a,
        name="Acme",
        management_account_id=" 111111111111 ",
        management_account_name="Payer",
    )

    payer = Account.objects.get(account_id="111111111111")
    assert org.management_account == payer
    assert payer.organization == org
    assert payer.name == "Payer"
    assert payer.is_payer
    assert AuditEntry.objects.filter(object_type__startswith="billing.").count() == 1
    entry = AuditEntry.objects.get(action="organization.create", actor=admin_a)
    before, after = audit_values("organization.create")
    assert (entry.object_id, before) == (str(org.pk), {})
    assert after["name"] == "Acme"
    assert after["management_account"]["account_id"] == "111111111111"


def test_an_existing_account_outside_any_organization_becomes_the_payer(admin_a: User) -> None:
    loose = account_create(actor=admin_a, account_id="222222222222", name="Loose")

    org = organization_create(actor=admin_a, name="Beta Org", management_account_id="222222222222")

    loose.refresh_from_db()
    assert org.management_account == loose
    assert loose.organization == org
    assert Account.objects.count() == 1


def test_the_payer_of_another_organization_cannot_pay_for_a_second_one(
    admin_a: User, org: Organization
) -> None:
    entries = AuditEntry.objects.count()

    with refused("account_is_payer") as error:
        organization_create(actor=admin_a, name="Other", management_account_id="111111111111")

    assert "Acme" in error.value.message
    assert Organization.objects.count() == 1
    assert AuditEntry.objects.count() == entries


def test_a_member_of_another_organization_cannot_become_a_payer(
    admin_a: User, org: Organization
) -> None:
    member = account_create(actor=admin_a, account_id="333333333333", organization=org)

    with refused("account_in_other_organization"):
        organization_create(actor=admin_a, name="Other", management_account_id="333333333333")

    assert unchanged(member)
    assert Organization.objects.count() == 1


def test_an_aws_payer_id_must_have_twelve_digits(admin_a: User) -> None:
    with refused("invalid_account_id") as error:
        organization_create(actor=admin_a, name="Acme", management_account_id="12345")

    assert error.value.field == "account_id"
    assert "12 digits" in error.value.message
    assert not Organization.objects.exists()
    assert not Account.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="billing.").exists()


def test_renaming_an_organization_records_before_and_after(
    admin_a: User, org: Organization
) -> None:
    renamed = organization_update(actor=admin_a, instance=org, name="Acme Holding")

    assert Organization.objects.get(pk=org.pk).name == "Acme Holding" == renamed.name
    before, after = audit_values("organization.update")
    assert (before["name"], after["name"]) == ("Acme", "Acme Holding")


# Accounts


def test_creating_a_member_account_in_an_ou(admin_a: User, org: Organization) -> None:
    unit = ou_create(actor=admin_a, organization=org, name="Prod")

    account = account_create(
        actor=admin_a,
        account_id="444444444444",
        name="web-prod",
        organization=org,
        ou=unit,
        joined_on=date(2024, 1, 1),
    )

    assert Account.objects.get(pk=account.pk).ou == unit
    assert not account.is_payer
    before, after = audit_values("account.create")
    assert (before, after["account_id"]) == ({}, "444444444444")
    assert after["ou_id"] == unit.pk


def test_an_account_id_is_taken_only_once_per_provider(admin_a: User, org: Organization) -> None:
    with refused("account_exists") as error:
        account_create(actor=admin_a, account_id="111111111111")

    assert "exists already" in error.value.message
    assert account_create(actor=admin_a, account_id="111111111111", provider="GCP").pk
    assert Account.objects.filter(account_id="111111111111").count() == 2


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "12345678901a"])
def test_an_aws_account_id_has_twelve_digits(admin_a: User, account_id: str) -> None:
    with refused("invalid_account_id"):
        account_create(actor=admin_a, account_id=account_id)

    assert not Account.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="billing.").exists()


def test_an_account_ou_must_be_in_the_account_organization(
    admin_a: User, org: Organization
) -> None:
    other = organization_create(actor=admin_a, name="Other", management_account_id="999999999999")
    foreign = ou_create(actor=admin_a, organization=other, name="Theirs")

    with refused("ou_other_organization"):
        account_create(actor=admin_a, account_id="444444444444", organization=org, ou=foreign)
    with refused("ou_other_organization"):
        account_create(actor=admin_a, account_id="444444444444", ou=foreign)

    assert not Account.objects.filter(account_id="444444444444").exists()


def test_an_account_cannot_leave_before_it_joined(admin_a: User) -> None:
    account = account_create(actor=admin_a, account_id="444444444444", joined_on=date(2024, 5, 1))

    with refused("invalid_left_on"):
        account_update(actor=admin_a, instance=account, left_on=date(2024, 4, 30))

    assert unchanged(account)


def test_moving_an_account_to_another_organization_puts_it_at_the_root(
    admin_a: User, org: Organization
) -> None:
    unit = ou_create(actor=admin_a, organization=org, name="Prod")
    account = account_create(actor=admin_a, account_id="444444444444", organization=org, ou=unit)
    other = organization_create(actor=admin_a, name="Other", management_account_id="999999999999")

    moved = account_update(actor=admin_a, instance=account, organization=other, name="renamed")

    assert (moved.organization, moved.ou, moved.name) == (other, None, "renamed")
    before, after = audit_values("account.update")
    assert (before["organization_id"], after["organization_id"]) == (org.pk, other.pk)
    assert (before["ou_id"], after["ou_id"]) == (unit.pk, None)


def test_a_management_account_stays_in_its_organization(admin_a: User, org: Organization) -> None:
    other = organization_create(actor=admin_a, name="Other", management_account_id="999999999999")
    payer = Account.objects.get(account_id="111111111111")
    entries = AuditEntry.objects.count()

    with refused("payer_organization_fixed"):
        account_update(actor=admin_a, instance=payer, organization=other)
    with refused("payer_organization_fixed"):
        account_update(actor=admin_a, instance=payer, organization=None)

    assert unchanged(payer)
    assert AuditEntry.objects.count() == entries
    assert account_update(actor=admin_a, instance=payer, name="Main payer").name == "Main payer"


def test_only_known_account_fields_can_be_changed(admin_a: User, org: Organization) -> None:
    payer = Account.objects.get(account_id="111111111111")

    with refused("invalid_field"):
        account_update(actor=admin_a, instance=payer, account_id="222222222222")

    assert unchanged(payer)


# The tree


def test_the_organization_tree_nests_ous_and_accounts_in_two_queries(
    admin_a: User, org: Organization
) -> None:
    prod = ou_create(actor=admin_a, organization=org, name="Prod")
    web = ou_create(actor=admin_a, organization=org, name="Web", parent=prod)
    ou_create(actor=admin_a, organization=org, name="Dev")
    account_create(actor=admin_a, account_id="444444444444", name="web-1", organization=org, ou=web)
    account_create(
        actor=admin_a, account_id="555555555555", name="prod-1", organization=org, ou=prod
    )
    account_create(actor=admin_a, account_id="666666666666", name="elsewhere")

    with CaptureQueriesContext(connection) as queries:
        tree = organization_tree(organization=org)
        paths = [node.ou.path for node in tree.units[1].children]

    # django-tenants sets the search path before each query; count the reads.
    assert len([q for q in queries.captured_queries if q["sql"].startswith("SELECT")]) == 2

    assert [a.account_id for a in tree.accounts] == ["111111111111"]
    assert [node.ou.name for node in tree.units] == ["Dev", "Prod"]
    prod_node = tree.units[1]
    assert [a.name for a in prod_node.accounts] == ["prod-1"]
    assert paths == ["Prod / Web"]
    assert [a.name for a in prod_node.children[0].accounts] == ["web-1"]
    assert tree.units[0].children == []
