"""Billing views (owned, shared read-only, at most 20 payers), teams and end customers."""

from __future__ import annotations

from typing import Any

import pytest

from billing.models import Account, BillingView, EndCustomer, Team
from billing.models.views import MAX_VIEW_PAYERS
from billing.services import (
    account_create,
    billing_view_create,
    billing_view_update,
    end_customer_create,
    end_customer_update,
    organization_create,
    team_create,
    team_update,
)
from portal.audit.models import AuditEntry
from portal.audit.services import snapshot
from portal.users.models import Role, User
from tests.billing.helpers import audit_values, refused
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("tenant_a")


def billing_entries() -> int:
    return AuditEntry.objects.filter(object_type__startswith="billing.").count()


def make_payers(actor: User, count: int, first: int = 1) -> list[Account]:
    found = []
    for n in range(first, first + count):
        org = organization_create(actor=actor, name=f"Org {n}", management_account_id=f"{n:012d}")
        assert org.management_account is not None
        found.append(org.management_account)
    return found


@pytest.fixture
def payer(admin_a: User) -> Account:
    return make_payers(admin_a, 1)[0]


@pytest.fixture
def member(admin_a: User, payer: Account) -> Account:
    return account_create(actor=admin_a, account_id="900000000001", organization=payer.organization)


@pytest.fixture
def finance() -> User:
    return make_user(Role.FINANCE, "fiona")


@pytest.fixture
def view(finance: User, payer: Account) -> BillingView:
    return billing_view_create(actor=finance, name="Web spend", payers=[payer])


# Billing views


def test_a_billing_view_belongs_to_its_creator_and_records_its_filters(
    finance: User, payer: Account, member: Account
) -> None:
    reader = make_user(Role.TEAM_LEAD, "tim")

    view = billing_view_create(
        actor=finance,
        name=" Web spend ",
        payers=[payer],
        accounts=[member],
        tags={"team": ["web", "data"], "env": []},
        services=["AmazonEC2"],
        shared_with=[reader],
    )

    stored = BillingView.objects.get(pk=view.pk)
    assert (stored.name, stored.owner) == ("Web spend", finance)
    assert list(stored.payers.all()) == [payer]
    assert list(stored.shared_with.all()) == [reader]
    assert stored.tags == {"team": ["web", "data"], "env": []}
    before, after = audit_values("billingview.create")
    assert AuditEntry.objects.get(action="billingview.create").actor == finance
    assert before == {}
    assert after["payers"] == [payer.pk]
    assert after["services"] == ["AmazonEC2"]


def test_twenty_payers_fit_in_a_view_and_twenty_one_do_not(admin_a: User, finance: User) -> None:
    payers = make_payers(admin_a, MAX_VIEW_PAYERS + 1)
    entries = billing_entries()

    with refused("too_many_payers") as error:
        billing_view_create(actor=finance, name="All", payers=payers)

    assert "at most 20 payers" in error.value.message
    assert "21" in error.value.message
    assert not BillingView.objects.exists()
    assert billing_entries() == entries
    view = billing_view_create(actor=finance, name="All", payers=payers[:MAX_VIEW_PAYERS])
    assert view.payers.count() == MAX_VIEW_PAYERS


def test_a_view_payer_must_be_a_payer_account(finance: User, member: Account) -> None:
    with refused("not_a_payer") as error:
        billing_view_create(actor=finance, name="Members", payers=[member])

    assert "900000000001" in error.value.message
    assert not BillingView.objects.exists()


@pytest.mark.parametrize(
    "tags",
    [["team"], {"team": "web"}, {"team": [1]}, {"": ["web"]}, {"team": None}],
)
def test_view_tags_are_keys_with_lists_of_values(finance: User, tags: Any) -> None:
    with refused("invalid_tags"):
        billing_view_create(actor=finance, name="Tagged", tags=tags)

    assert not BillingView.objects.exists()


@pytest.mark.parametrize("services", ["AmazonEC2", [1], {"AmazonEC2": True}])
def test_view_services_are_a_list_of_names(finance: User, services: Any) -> None:
    with refused("invalid_services"):
        billing_view_create(actor=finance, name="Services", services=services)


def test_the_owner_changes_a_view_and_the_change_is_audited(
    finance: User, view: BillingView, admin_a: User
) -> None:
    more = make_payers(admin_a, 2, first=2)

    changed = billing_view_update(
        actor=finance, instance=view, name="Web and data", payers=more, services=["AmazonS3"]
    )

    stored = BillingView.objects.get(pk=view.pk)
    assert stored.name == changed.name == "Web and data"
    assert set(stored.payers.all()) == set(more)
    before, after = audit_values("billingview.update")
    assert before["name"] == "Web spend"
    assert after["payers"] == sorted(p.pk for p in more)
    assert (before["services"], after["services"]) == ([], ["AmazonS3"])


def test_an_admin_may_change_anyones_view(admin_a: User, view: BillingView) -> None:
    billing_view_update(actor=admin_a, instance=view, tags={"env": ["prod"]})

    assert BillingView.objects.get(pk=view.pk).tags == {"env": ["prod"]}


def test_users_a_view_is_shared_with_may_only_read_it(finance: User, view: BillingView) -> None:
    reader = make_user(Role.FINANCE, "reader")
    billing_view_update(actor=finance, instance=view, shared_with=[reader])
    view.refresh_from_db()
    stranger = make_user(Role.RESELLER_ADMIN, "stranger")
    entries = billing_entries()

    for actor in (reader, stranger):
        with refused("forbidden"):
            billing_view_update(actor=actor, instance=view, name="Mine now")

    assert snapshot(BillingView.objects.get(pk=view.pk)) == snapshot(view)
    assert billing_entries() == entries


def test_an_update_breaking_a_rule_changes_nothing(
    admin_a: User, finance: User, view: BillingView
) -> None:
    payers = make_payers(admin_a, MAX_VIEW_PAYERS + 1, first=2)
    entries = billing_entries()

    with refused("too_many_payers"):
        billing_view_update(actor=finance, instance=view, name="Everything", payers=payers)
    with refused("invalid_field"):
        billing_view_update(actor=finance, instance=view, owner=admin_a)

    assert snapshot(BillingView.objects.get(pk=view.pk)) == snapshot(view)
    assert billing_entries() == entries


# Teams


def test_a_team_with_leads_and_members(admin_a: User) -> None:
    lead = make_user(Role.TEAM_LEAD, "lea")
    dev = make_user(Role.TEAM_LEAD, "dev")

    team = team_create(actor=admin_a, name="Web", leads=[lead], members=[dev])

    assert list(Team.objects.get(pk=team.pk).leads.all()) == [lead]
    before, after = audit_values("team.create")
    assert before == {}
    assert (after["name"], after["members"]) == ("Web", [dev.pk])


def test_team_names_are_unique_whatever_the_case(admin_a: User) -> None:
    web = team_create(actor=admin_a, name="Web")
    data = team_create(actor=admin_a, name="Data")
    entries = billing_entries()

    with refused("team_exists"):
        team_create(actor=admin_a, name="web")
    with refused("team_exists"):
        team_update(actor=admin_a, instance=data, name="WEB")

    assert Team.objects.count() == 2
    assert snapshot(Team.objects.get(pk=data.pk)) == snapshot(data)
    assert billing_entries() == entries
    assert team_update(actor=admin_a, instance=web, name="web").name == "web"


def test_changing_a_team_records_before_and_after(admin_a: User) -> None:
    team = team_create(actor=admin_a, name="Web")
    lead = make_user(Role.TEAM_LEAD, "lea")

    team_update(actor=admin_a, instance=team, description="Storefront", leads=[lead])

    before, after = audit_values("team.update")
    assert (before["leads"], after["leads"]) == ([], [lead.pk])
    assert (before["description"], after["description"]) == ("", "Storefront")


# End customers


def test_an_end_customer_with_payers_accounts_and_viewers(
    admin_a: User, payer: Account, member: Account
) -> None:
    viewer = make_user(Role.END_CUSTOMER, "carla")

    customer = end_customer_create(
        actor=admin_a,
        legal_name="Carla GmbH",
        currency="eur",
        contact_email="billing@carla.example",
        payers=[payer],
        accounts=[member],
        viewers=[viewer],
    )

    stored = EndCustomer.objects.get(pk=customer.pk)
    assert stored.currency == "EUR"
    assert list(stored.viewers.all()) == [viewer]
    before, after = audit_values("endcustomer.create")
    assert before == {}
    assert after["payers"] == [payer.pk]
    assert after["accounts"] == [member.pk]


def test_end_customer_viewers_must_be_end_customer_users(admin_a: User, finance: User) -> None:
    with refused("viewer_not_end_customer") as error:
        end_customer_create(actor=admin_a, legal_name="Carla GmbH", viewers=[finance])

    assert "fiona" in error.value.message
    assert not EndCustomer.objects.exists()


def test_end_customer_payers_must_be_payer_accounts(admin_a: User, member: Account) -> None:
    with refused("not_a_payer"):
        end_customer_create(actor=admin_a, legal_name="Carla GmbH", payers=[member])

    assert not EndCustomer.objects.exists()


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"currency": "EURO"}, "invalid_currency"),
        ({"contact_email": "not-an-email"}, "invalid_contact_email"),
        ({"legal_name": "  "}, "invalid_legal_name"),
    ],
)
def test_end_customer_fields_are_checked(admin_a: User, values: dict[str, Any], code: str) -> None:
    with refused(code):
        end_customer_create(actor=admin_a, **{"legal_name": "Carla GmbH", **values})

    assert not EndCustomer.objects.exists()
    assert billing_entries() == 0


def test_changing_an_end_customer(admin_a: User, payer: Account) -> None:
    customer = end_customer_create(actor=admin_a, legal_name="Carla GmbH")
    other = end_customer_create(actor=admin_a, legal_name="Other AG")
    viewer = make_user(Role.END_CUSTOMER, "carla")

    end_customer_update(
        actor=admin_a, instance=customer, payers=[payer], viewers=[viewer], tax_id="DE123"
    )
    with refused("end_customer_exists"):
        end_customer_update(actor=admin_a, instance=other, legal_name="carla gmbh")
    with refused("viewer_not_end_customer"):
        end_customer_update(actor=admin_a, instance=other, viewers=[admin_a])

    before, after = audit_values("endcustomer.update")
    assert (before["payers"], after["payers"]) == ([], [payer.pk])
    assert (before["tax_id"], after["tax_id"]) == ("", "DE123")
    assert snapshot(EndCustomer.objects.get(pk=other.pk)) == snapshot(other)
