"""Organizations, OUs (at most five levels) and accounts, written through the services."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Account, Organization, OrganizationalUnit
from billing.selectors import organization_tree
from billing.services import (
    account_create,
    account_update,
    organization_create,
    organization_update,
    ou_create,
    ou_update,
)
from portal.audit.models import AuditEntry
from portal.audit.services import snapshot
from portal.users.models import User
from tests.billing.helpers import audit_values, refused, unchanged

pytestmark = pytest.mark.usefixtures("tenant_a")


@pytest.fixture
def org(admin_a: User) -> Organization:
    return organization_create(
        actor=admin_a,
        name="Acme",
        management_account_id="111111111111",
        management_account_name="Acme payer",
    )


def ou_chain(actor: User, org: Organization, levels: int) -> list[OrganizationalUnit]:
    """OUs L1 / L2 / ... nested `levels` deep."""
    chain: list[OrganizationalUnit] = []
    for level in range(1, levels + 1):
        parent = chain[-1] if chain else None
        chain.append(ou_create(actor=actor, organization=org, name=f"L{level}", parent=parent))
    return chain


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


# OUs


def test_five_levels_of_ous_are_allowed_and_a_sixth_is_refused(
    admin_a: User, org: Organization
) -> None:
    chain = ou_chain(admin_a, org, 5)
    assert [unit.depth for unit in chain] == [1, 2, 3, 4, 5]
    entries = AuditEntry.objects.count()

    with refused("ou_too_deep") as error:
        ou_create(actor=admin_a, organization=org, name="L6", parent=chain[-1])

    assert "L1 / L2 / L3 / L4 / L5 / L6" in error.value.message
    assert "at most 5 levels" in error.value.message
    assert OrganizationalUnit.objects.count() == 5
    assert AuditEntry.objects.count() == entries


def test_creating_an_ou_records_one_audit_entry(admin_a: User, org: Organization) -> None:
    unit = ou_create(actor=admin_a, organization=org, name="  Workloads ")

    assert unit.name == "Workloads"
    assert unit.depth == 1
    before, after = audit_values("organizationalunit.create")
    assert (before, after["name"], after["id"]) == ({}, "Workloads", unit.pk)


def test_an_ou_name_is_unique_among_its_siblings_only(admin_a: User, org: Organization) -> None:
    prod = ou_create(actor=admin_a, organization=org, name="Prod")
    dev = ou_create(actor=admin_a, organization=org, name="Dev")
    ou_create(actor=admin_a, organization=org, name="Web", parent=prod)

    ou_create(actor=admin_a, organization=org, name="Web", parent=dev)
    with refused("ou_name_taken") as error:
        ou_create(actor=admin_a, organization=org, name="Web", parent=prod)
    with refused("ou_name_taken"):
        ou_create(actor=admin_a, organization=org, name="Prod")

    assert "Prod" in error.value.message
    assert OrganizationalUnit.objects.filter(name="Web").count() == 2


def test_an_ou_cannot_hang_below_another_organizations_ou(admin_a: User, org: Organization) -> None:
    other = organization_create(actor=admin_a, name="Other", management_account_id="999999999999")
    foreign = ou_create(actor=admin_a, organization=other, name="Theirs")

    with refused("ou_other_organization"):
        ou_create(actor=admin_a, organization=org, name="Mine", parent=foreign)
    mine = ou_create(actor=admin_a, organization=org, name="Mine")
    with refused("ou_other_organization"):
        ou_update(actor=admin_a, instance=mine, parent=foreign)

    assert unchanged(mine)


def test_moving_a_subtree_updates_the_depth_of_every_ou_in_it(
    admin_a: User, org: Organization
) -> None:
    a1, a2, a3 = ou_chain(admin_a, org, 3)
    target = ou_create(actor=admin_a, organization=org, name="Target")

    moved = ou_update(actor=admin_a, instance=a2, parent=target)

    assert moved.parent == target
    depths = dict(OrganizationalUnit.objects.values_list("name", "depth"))
    assert depths == {"L1": 1, "Target": 1, "L2": 2, "L3": 3}
    before, after = audit_values("organizationalunit.update")
    assert before["parent_id"] == a1.pk
    assert after["parent_id"] == target.pk
    assert OrganizationalUnit.objects.get(pk=a3.pk).path == "Target / L2 / L3"


def test_moving_an_ou_to_the_root_and_back_down(admin_a: User, org: Organization) -> None:
    _, a2, _ = ou_chain(admin_a, org, 3)

    ou_update(actor=admin_a, instance=a2, parent=None)
    assert dict(OrganizationalUnit.objects.values_list("name", "depth")) == {
        "L1": 1,
        "L2": 1,
        "L3": 2,
    }


def test_renaming_keeps_the_ou_where_it_is(admin_a: User, org: Organization) -> None:
    a1, a2 = ou_chain(admin_a, org, 2)

    renamed = ou_update(actor=admin_a, instance=a2, name="Renamed")

    assert renamed.parent == a1
    assert renamed.name == "Renamed"
    assert renamed.depth == 2


def test_a_move_that_would_push_the_subtree_below_five_levels_is_refused(
    admin_a: User, org: Organization
) -> None:
    deep = ou_chain(admin_a, org, 4)
    top = ou_create(actor=admin_a, organization=org, name="Top")
    middle = ou_create(actor=admin_a, organization=org, name="Middle", parent=top)
    ou_create(actor=admin_a, organization=org, name="Bottom", parent=middle)
    before = {unit.pk: snapshot(unit) for unit in OrganizationalUnit.objects.all()}
    entries = AuditEntry.objects.count()

    # Top (depth 1, two levels below it) under L3 (depth 3): Bottom would sit at depth 6.
    with refused("ou_too_deep") as error:
        ou_update(actor=admin_a, instance=top, parent=deep[2])

    assert "L1 / L2 / L3 / Top" in error.value.message
    assert "6 levels" in error.value.message
    assert {unit.pk: snapshot(unit) for unit in OrganizationalUnit.objects.all()} == before
    assert AuditEntry.objects.count() == entries
    # One level higher fits exactly: Bottom lands on level 5.
    ou_update(actor=admin_a, instance=top, parent=deep[1])
    assert OrganizationalUnit.objects.get(name="Bottom").depth == 5


def test_an_ou_cannot_move_under_itself_or_its_own_descendant(
    admin_a: User, org: Organization
) -> None:
    a1, _, a3 = ou_chain(admin_a, org, 3)
    entries = AuditEntry.objects.count()

    with refused("ou_cycle"):
        ou_update(actor=admin_a, instance=a1, parent=a3)
    with refused("ou_cycle"):
        ou_update(actor=admin_a, instance=a1, parent=a1)

    assert unchanged(a1)
    assert AuditEntry.objects.count() == entries


def test_a_move_onto_a_sibling_with_the_same_name_is_refused(
    admin_a: User, org: Organization
) -> None:
    prod = ou_create(actor=admin_a, organization=org, name="Prod")
    ou_create(actor=admin_a, organization=org, name="Web", parent=prod)
    web = ou_create(actor=admin_a, organization=org, name="Web")

    with refused("ou_name_taken"):
        ou_update(actor=admin_a, instance=web, parent=prod)

    assert unchanged(web)


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
