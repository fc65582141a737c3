"""OUs (at most five levels): created, renamed and moved through the services."""

from __future__ import annotations

import pytest

from billing.models import Organization, OrganizationalUnit
from billing.services import organization_create, ou_create, ou_update
from portal.audit.models import AuditEntry
from portal.audit.services import snapshot
from portal.users.models import User
from tests.billing.helpers import audit_values, refused, unchanged

pytestmark = pytest.mark.usefixtures("tenant_a")


def ou_chain(actor: User, org: Organization, levels: int) -> list[OrganizationalUnit]:
    """OUs L1 / L2 / ... nested `levels` deep."""
    chain: list[OrganizationalUnit] = []
    for level in range(1, levels + 1):
        parent = chain[-1] if chain else None
        chain.append(ou_create(actor=actor, organization=org, name=f"L{level}", parent=parent))
    return chain


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
