"""The billing pages: lists, detail pages and forms, scoped to what each role may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    Organization,
    OrganizationalUnit,
    Team,
    TransferStatus,
)
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.billing.world import World, add_rows, beta_rows, make_world, next_start, payer_of
from tests.conftest import TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")

LISTS = {
    "organizations": "/org/organizations/",
    "accounts": "/org/accounts/",
    "transfers": "/org/transfers/",
    "billing-views": "/org/billing-views/",
    "teams": "/org/teams/",
    "end-customers": "/org/end-customers/",
}


@pytest.fixture
def world() -> World:
    return make_world()


def logged_in(client: TenantClient, user: User) -> TenantClient:
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


@pytest.mark.parametrize(
    ("role", "path", "button"),
    [
        (Role.ADMIN, "/org/organizations/", "New organization"),
        (Role.ADMIN, "/org/accounts/", "New account"),
        (Role.ADMIN, "/org/teams/", "New team"),
        (Role.RESELLER_ADMIN, "/org/transfers/", "New transfer invitation"),
        (Role.RESELLER_ADMIN, "/org/end-customers/", "New end customer"),
        (Role.FINANCE, "/org/billing-views/", "New billing view"),
    ],
)
def test_list_pages_offer_new_only_to_roles_that_may_write(
    client_a: TenantClient, world: World, role: str, path: str, button: str
) -> None:
    writer = TenantClient(client_a.host)
    page = logged_in(writer, make_user(role)).get(path)
    assert page.status_code == 200
    assert button in text(page)
    reader_role = Role.FINANCE if role != Role.FINANCE else Role.TEAM_LEAD
    page = logged_in(client_a, make_user(reader_role)).get(path)
    assert page.status_code == 200
    assert button not in text(page)


def test_organization_page_shows_the_ou_tree_with_accounts_and_add_buttons(
    admin_client_a: TenantClient, world: World
) -> None:
    web = OrganizationalUnit.objects.create(
        organization=world.acme, parent=world.prod, name="Web", depth=2
    )
    Account.objects.create(account_id="666666666666", name="edge", organization=world.acme, ou=web)

    page = text(admin_client_a.get(f"/org/organizations/{world.acme.pk}/"))

    # Prod holds Web, which holds the edge account; the payer sits at the root.
    prod_at, web_at, edge_at = page.index(">Prod<"), page.index(">Web<"), page.index("edge (")
    assert prod_at < web_at < edge_at
    assert page.count('<ul class="tree">') == 3
    assert "Acme payer (111111111111)" in page
    assert f"/org/ous/new/?organization={world.acme.pk}" in page
    assert f"/org/accounts/new/?organization={world.acme.pk}&amp;ou={web.pk}" in page


def test_admin_builds_an_organization_through_the_forms(
    admin_client_a: TenantClient, world: World
) -> None:
    created = admin_client_a.post(
        "/org/organizations/new/",
        {"name": "Initech", "provider": "AWS", "management_account_id": "444444444444"},
    )
    org = Organization.objects.get(name="Initech")
    assert created["Location"] == f"/org/organizations/{org.pk}/"

    form = admin_client_a.get(f"/org/ous/new/?organization={org.pk}")
    assert "selected>Initech</option>" in text(form)
    admin_client_a.post("/org/ous/new/", {"organization": org.pk, "name": "Prod"})
    prod = OrganizationalUnit.objects.get(organization=org)
    admin_client_a.post(
        "/org/accounts/new/",
        {"provider": "AWS", "account_id": "555555555555", "organization": org.pk, "ou": prod.pk},
    )
    renamed = admin_client_a.post(f"/org/ous/{prod.pk}/edit/", {"name": "Production"})

    assert renamed["Location"] == f"/org/organizations/{org.pk}/"
    assert Account.objects.get(account_id="555555555555").ou == prod
    assert AuditEntry.objects.filter(action="organizationalunit.update").exists()
    assert ">Production<" in text(admin_client_a.get(renamed["Location"]))


def test_change_pages_start_from_the_current_values(
    admin_client_a: TenantClient, world: World
) -> None:
    page = text(admin_client_a.get(f"/org/accounts/{world.member.pk}/edit/"))
    assert 'value="web"' in page
    assert f'<option value="{world.prod.pk}" selected>Acme: Prod</option>' in page


def test_a_refused_form_shows_the_message_next_to_the_field(
    admin_client_a: TenantClient, world: World
) -> None:
    page = admin_client_a.post("/org/accounts/new/", {"provider": "AWS", "account_id": "123"})
    assert page.status_code == 200
    assert '<p class="field-error">An AWS account id has 12 digits' in text(page)
    assert not Account.objects.filter(account_id="123").exists()


def test_billing_views_teams_and_customers_are_created_with_multi_selects(
    client_a: TenantClient, world: World
) -> None:
    client = logged_in(client_a, make_user(Role.ADMIN))
    client.post(
        "/org/billing-views/new/",
        {
            "name": "Prod",
            "payers": [payer_of(world.acme).pk],
            "ous": [world.prod.pk],
            "tags": "team: web, data\nenv",
            "services": "AmazonEC2\nAmazonS3",
            "shared_with": [world.finance.pk, world.lead.pk],
        },
    )
    view = BillingView.objects.get(name="Prod")
    assert view.tags == {"team": ["web", "data"], "env": []}
    assert view.services == ["AmazonEC2", "AmazonS3"]
    assert set(view.shared_with.all()) == {world.finance, world.lead}
    form = text(client.get(f"/org/billing-views/{view.pk}/edit/"))
    assert "\nteam: web, data" in form and "\nenv" in form

    client.post("/org/teams/new/", {"name": "Platform", "leads": [world.lead.pk]})
    assert list(Team.objects.get(name="Platform").leads.all()) == [world.lead]
    client.post(
        "/org/end-customers/new/",
        {"legal_name": "Initech", "currency": "EUR", "payers": [payer_of(world.globex).pk],
         "viewers": [world.viewer.pk]},
    )  # fmt: skip
    customer = EndCustomer.objects.get(legal_name="Initech")
    assert list(customer.viewers.all()) == [world.viewer]
    assert "Globex payer" in text(client.get(f"/org/end-customers/{customer.pk}/"))


def _transfer(world: World, status: str = TransferStatus.PENDING) -> BillingTransfer:
    return BillingTransfer.objects.create(
        source=payer_of(world.globex),
        destination=payer_of(world.acme),
        start_date=next_start(),
        status=status,
    )


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (TransferStatus.PENDING, {"accept", "decline", "cancel"}),
        (TransferStatus.ACCEPTED, {"withdraw"}),
        (TransferStatus.DECLINED, set()),
    ],
)
def test_transfer_page_offers_the_steps_of_its_status(
    admin_client_a: TenantClient, world: World, status: str, buttons: set[str]
) -> None:
    transfer = _transfer(world, status)
    page = text(admin_client_a.get(f"/org/transfers/{transfer.pk}/"))
    shown = {s for s in ("accept", "decline", "cancel", "withdraw") if f"step-{s}" in page}
    assert shown == buttons


def test_a_transfer_is_accepted_from_its_page_and_readers_get_no_buttons(
    client_a: TenantClient, world: World
) -> None:
    transfer = _transfer(world)
    finance = logged_in(TenantClient(client_a.host), world.finance)
    assert "step-" not in text(finance.get(f"/org/transfers/{transfer.pk}/"))
    assert finance.post(f"/org/transfers/{transfer.pk}/accept/").status_code == 403

    reseller = logged_in(client_a, make_user(Role.RESELLER_ADMIN))
    response = reseller.post(f"/org/transfers/{transfer.pk}/accept/", follow=True)
    assert "The transfer is accepted." in text(response)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED

    again = reseller.post(f"/org/transfers/{transfer.pk}/decline/", follow=True)
    assert "only a pending invitation can be declined" in text(again)
    withdrawn = reseller.post(f"/org/transfers/{transfer.pk}/withdraw/", {"end_date": ""})
    assert withdrawn.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN


def test_an_end_customer_sees_only_its_own_customer_and_accounts(
    client_a: TenantClient, world: World
) -> None:
    client = logged_in(client_a, world.viewer)
    customers = text(client.get("/org/end-customers/"))
    assert "Acme Customer Ltd" in customers
    assert "Globex Customer Ltd" not in customers
    accounts = text(client.get("/org/accounts/"))
    assert "111111111111" in accounts and "222222222222" in accounts
    assert "333333333333" not in accounts
    assert client.get(f"/org/end-customers/{world.other_customer.pk}/").status_code == 404
    assert client.get(f"/org/organizations/{world.globex.pk}/").status_code == 404
    assert client.get(f"/org/organizations/{world.acme.pk}/").status_code == 200
    assert client.get(f"/org/end-customers/{world.customer.pk}/edit/").status_code == 403


def test_a_team_lead_sees_only_their_teams_and_opens_no_form(
    client_a: TenantClient, world: World
) -> None:
    client = logged_in(client_a, world.lead)
    teams = text(client.get("/org/teams/"))
    assert ">Web<" in teams and ">Data<" not in teams
    assert client.get(f"/org/teams/{world.team.pk}/").status_code == 200
    assert client.get(f"/org/teams/{world.other_team.pk}/").status_code == 404
    for path in ("teams/new/", f"teams/{world.team.pk}/edit/", "billing-views/new/",
                 "transfers/new/", "organizations/new/"):  # fmt: skip
        assert client.get(f"/org/{path}").status_code == 403, path
        assert client.post(f"/org/{path}", {"name": "x"}).status_code == 403, path


DETAIL_PAGES = {
    "organizations": ["/org/organizations/{}/", "/org/organizations/{}/edit/"],
    "ous": ["/org/ous/{}/edit/"],
    "accounts": ["/org/accounts/{}/", "/org/accounts/{}/edit/"],
    "transfers": ["/org/transfers/{}/", "/org/transfers/{}/accept/"],
    "billing-views": ["/org/billing-views/{}/", "/org/billing-views/{}/edit/"],
    "teams": ["/org/teams/{}/", "/org/teams/{}/edit/"],
    "end-customers": ["/org/end-customers/{}/", "/org/end-customers/{}/edit/"],
}


@pytest.mark.parametrize("resource", DETAIL_PAGES)
def test_pages_of_another_tenants_rows_are_not_found(
    admin_client_a: TenantClient, resource: str
) -> None:
    row = beta_rows()[resource]
    for template in DETAIL_PAGES[resource]:
        url = template.format(row.pk)
        get_or_post = admin_client_a.post if url.endswith("accept/") else admin_client_a.get
        assert get_or_post(url).status_code == 404, url


@pytest.mark.parametrize("resource", LISTS)
def test_each_list_page_uses_a_constant_number_of_queries(
    admin_client_a: TenantClient, world: World, resource: str
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client_a.get(LISTS[resource]).status_code == 200
        return len(queries)

    add_rows(resource, 2, world)
    few = count()
    add_rows(resource, 8, world)
    assert count() == few


def test_the_organization_page_uses_a_constant_number_of_queries(
    admin_client_a: TenantClient, world: World
) -> None:
    def grow(n: int) -> int:
        for i in range(n):
            unit = OrganizationalUnit.objects.create(
                organization=world.acme, parent=world.prod, name=f"Unit {i}-{n}", depth=2
            )
            Account.objects.create(
                account_id=f"{700000000000 + unit.pk:012d}", organization=world.acme, ou=unit
            )
        with CaptureQueriesContext(connection) as queries:
            assert admin_client_a.get(f"/org/organizations/{world.acme.pk}/").status_code == 200
        return len(queries)

    assert grow(2) == grow(8)


def test_pages_need_a_login(client_a: TenantClient) -> None:
    response = client_a.get("/org/organizations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
