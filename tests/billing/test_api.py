"""The billing REST API: each resource read through the permission layer, written via services."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

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
from tests.conftest import TENANT_HOSTS, TenantClient, api_token, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")


class Api:
    """A tenant's /api/v1/ as one user, with that user's token."""

    def __init__(self, client: TenantClient, user: User) -> None:
        self.client = client
        self.auth = f"Token {api_token(client, user.username)}"

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=self.auth)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            f"/api/v1/{path}",
            data or {},
            content_type="application/json",
            HTTP_AUTHORIZATION=self.auth,
        )

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(
            f"/api/v1/{path}", data, content_type="application/json", HTTP_AUTHORIZATION=self.auth
        )


def payer_org(name: str, account_id: str) -> Organization:
    payer = Account.objects.create(account_id=account_id, name=f"{name} payer")
    org = Organization.objects.create(name=name, management_account=payer)
    Account.objects.filter(pk=payer.pk).update(organization=org)
    return org


def payer_of(org: Organization) -> Account:
    assert org.management_account is not None
    return org.management_account


def next_start(today: date | None = None) -> date:
    """The 1st of the month after next: a start date an invitation may still use."""
    return ((today or date.today()).replace(day=1) + timedelta(days=62)).replace(day=1)


@dataclass
class World:
    """Two organizations of tenant alpha, a customer of each, a team, and their people."""

    acme: Organization
    prod: OrganizationalUnit
    member: Account
    globex: Organization
    customer: EndCustomer
    other_customer: EndCustomer
    team: Team
    other_team: Team
    lead: User
    viewer: User
    finance: User


def make_world() -> World:
    acme, globex = payer_org("Acme", "111111111111"), payer_org("Globex", "333333333333")
    prod = OrganizationalUnit.objects.create(organization=acme, name="Prod")
    member = Account.objects.create(
        account_id="222222222222", name="web", organization=acme, ou=prod
    )
    lead = make_user(Role.TEAM_LEAD, "lena-lead")
    viewer = make_user(Role.END_CUSTOMER, "vic-viewer")
    customer = EndCustomer.objects.create(legal_name="Acme Customer Ltd")
    customer.payers.set([payer_of(acme)])
    customer.viewers.set([viewer])
    other_customer = EndCustomer.objects.create(legal_name="Globex Customer Ltd")
    other_customer.payers.set([payer_of(globex)])
    team, other_team = Team.objects.create(name="Web"), Team.objects.create(name="Data")
    team.leads.set([lead])
    finance = make_user(Role.FINANCE, "fay-finance")
    return World(
        acme=acme, prod=prod, member=member, globex=globex, customer=customer,
        other_customer=other_customer, team=team, other_team=other_team, lead=lead,
        viewer=viewer, finance=finance,
    )  # fmt: skip


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def admin_api(client_a: TenantClient, admin_a: User) -> Api:
    return Api(client_a, admin_a)


def audited(label: str, action: str, pk: int) -> bool:
    return AuditEntry.objects.filter(object_type=label, action=action, object_id=str(pk)).exists()


# (path, model label, audit action of create, create body, change body)
WRITES: list[tuple[str, str, str, Callable[[World], dict[str, Any]], dict[str, Any]]] = [
    ("organizations", "billing.Organization", "organization.create",
     lambda w: {"name": "Initech", "management_account_id": "444444444444"}, {"name": "Initech 2"}),
    ("ous", "billing.OrganizationalUnit", "organizationalunit.create",
     lambda w: {"organization": w.acme.pk, "name": "Web", "parent": w.prod.pk}, {"name": "Www"}),
    ("accounts", "billing.Account", "account.create",
     lambda w: {"account_id": "555555555555", "organization": w.acme.pk, "ou": w.prod.pk},
     {"name": "api", "joined_on": "2025-01-01"}),
    ("billing-views", "billing.BillingView", "billingview.create",
     lambda w: {"name": "Prod", "payers": [payer_of(w.acme).pk],
                "tags": {"team": ["web"]}, "services": ["AmazonEC2"]},
     {"name": "Production", "tags": {"env": []}}),
    ("teams", "billing.Team", "team.create",
     lambda w: {"name": "Platform", "leads": [w.lead.pk]}, {"description": "Runs the platform."}),
    ("end-customers", "billing.EndCustomer", "endcustomer.create",
     lambda w: {"legal_name": "Initech Inc", "payers": [payer_of(w.globex).pk],
                "viewers": [w.viewer.pk]},
     {"currency": "EUR", "contact_email": "ap@initech.example"}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "label", "action", "create", "change"), WRITES)
def test_admin_creates_changes_and_lists_each_resource_with_an_audit_entry(
    admin_api: Api, world: World, path: str, label: str, action: str, create: Any, change: Any
) -> None:
    created = admin_api.post(f"{path}/", create(world))
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert audited(label, action, pk)

    changed = admin_api.patch(f"{path}/{pk}/", change)
    assert changed.status_code == 200, changed.content
    assert changed.json().items() >= change.items()
    assert audited(label, action.replace(".create", ".update"), pk)

    listed = admin_api.get(f"{path}/")
    assert listed.status_code == 200
    assert pk in [row["id"] for row in listed.json()["results"]]
    assert admin_api.get(f"{path}/{pk}/").json()["id"] == pk


def test_organization_detail_includes_its_ou_tree(admin_api: Api, world: World) -> None:
    web = OrganizationalUnit.objects.create(
        organization=world.acme, parent=world.prod, name="Web", depth=2
    )
    Account.objects.create(account_id="666666666666", name="edge", organization=world.acme, ou=web)

    tree = admin_api.get(f"organizations/{world.acme.pk}/").json()["tree"]

    assert [a["account_id"] for a in tree["accounts"]] == ["111111111111"]
    [prod] = tree["units"]
    assert (prod["name"], [a["name"] for a in prod["accounts"]]) == ("Prod", ["web"])
    assert [(c["name"], [a["name"] for a in c["accounts"]]) for c in prod["children"]] == [
        ("Web", ["edge"])
    ]


def test_a_transfer_is_invited_accepted_and_withdrawn_through_its_actions(
    admin_api: Api, world: World
) -> None:
    body = {
        "source": payer_of(world.globex).pk,
        "destination": payer_of(world.acme).pk,
        "start_date": next_start().isoformat(),
    }
    invited = admin_api.post("transfers/", body)
    assert invited.status_code == 201, invited.content
    pk = invited.json()["id"]
    assert invited.json()["status"] == TransferStatus.PENDING
    assert audited("billing.BillingTransfer", "billingtransfer.invite", pk)

    accepted = admin_api.post(f"transfers/{pk}/accept/")
    assert (accepted.status_code, accepted.json()["status"]) == (200, TransferStatus.ACCEPTED)
    again = admin_api.post(f"transfers/{pk}/decline/")
    assert (again.status_code, again.json()["code"]) == (400, "transfer_not_pending")

    withdrawn = admin_api.post(f"transfers/{pk}/withdraw/", {"end_date": None})
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, TransferStatus.WITHDRAWN)
    assert audited("billing.BillingTransfer", "billingtransfer.withdraw", pk)
    assert admin_api.patch(f"transfers/{pk}/", {"note": "x"}).status_code == 405


@pytest.mark.parametrize(("step", "status"), [("decline", "declined"), ("cancel", "cancelled")])
def test_a_pending_transfer_is_declined_or_cancelled(
    admin_api: Api, world: World, step: str, status: str
) -> None:
    transfer = BillingTransfer.objects.create(
        source=payer_of(world.globex),
        destination=payer_of(world.acme),
        start_date=next_start(),
    )
    response = admin_api.post(f"transfers/{transfer.pk}/{step}/")
    assert (response.status_code, response.json()["status"]) == (200, status)
    assert audited("billing.BillingTransfer", f"billingtransfer.{step}", transfer.pk)


@pytest.mark.parametrize(
    ("path", "body", "code", "field"),
    [
        ("accounts/", lambda w: {"account_id": "123"}, "invalid_account_id", "account_id"),
        ("organizations/", lambda w: {"name": "Twin", "management_account_id": "111111111111"},
         "account_is_payer", "management_account_id"),
        ("transfers/", lambda w: {"source": payer_of(w.acme).pk,
                                  "destination": payer_of(w.acme).pk,
                                  "start_date": next_start().isoformat()},
         "transfer_to_itself", "destination"),
        ("end-customers/", lambda w: {"legal_name": "X", "viewers": [w.lead.pk]},
         "viewer_not_end_customer", "viewers"),
        ("billing-views/", lambda w: {"name": "V", "payers": [w.member.pk]},
         "not_a_payer", "payers"),
    ],
)  # fmt: skip
def test_refused_input_comes_back_as_400_with_code_and_message(
    admin_api: Api, world: World, path: str, body: Any, code: str, field: str
) -> None:
    before = AuditEntry.objects.count()
    response = admin_api.post(path, body(world))
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert AuditEntry.objects.count() == before


def test_malformed_input_is_a_400_naming_the_field(admin_api: Api, world: World) -> None:
    response = admin_api.post("transfers/", {"source": payer_of(world.acme).pk})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert {"destination", "start_date"} <= set(body["errors"])
    assert body["field"] in body["message"]


def test_an_end_customer_sees_only_its_customer_and_its_payers_accounts(
    client_a: TenantClient, world: World
) -> None:
    api = Api(client_a, world.viewer)
    ids = {path: [r["id"] for r in api.get(f"{path}/").json()["results"]] for path in
           ("end-customers", "accounts", "organizations", "teams")}  # fmt: skip
    assert ids["end-customers"] == [world.customer.pk]
    assert sorted(ids["accounts"]) == sorted([payer_of(world.acme).pk, world.member.pk])
    assert ids["organizations"] == [world.acme.pk]
    assert ids["teams"] == []
    assert api.get(f"end-customers/{world.other_customer.pk}/").status_code == 404
    assert api.get(f"organizations/{world.globex.pk}/").status_code == 404
    assert api.get(f"accounts/{payer_of(world.globex).pk}/").status_code == 404


def test_a_team_lead_sees_only_their_teams_and_cannot_write(
    client_a: TenantClient, world: World
) -> None:
    api = Api(client_a, world.lead)
    assert [r["id"] for r in api.get("teams/").json()["results"]] == [world.team.pk]
    assert api.get(f"teams/{world.other_team.pk}/").status_code == 404
    for path, _, _, create, _ in WRITES:
        assert api.post(f"{path}/", create(world)).status_code == 403, path
    assert api.patch(f"teams/{world.team.pk}/", {"name": "Mine"}).status_code == 403
    assert Team.objects.get(pk=world.team.pk).name == "Web"


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (Role.FINANCE, "organizations", False),
        (Role.FINANCE, "end-customers", False),
        (Role.FINANCE, "billing-views", True),
        (Role.RESELLER_ADMIN, "end-customers", True),
        (Role.RESELLER_ADMIN, "teams", False),
    ],
)
def test_write_roles_per_resource(
    client_a: TenantClient, world: World, role: str, path: str, allowed: bool
) -> None:
    api = Api(client_a, make_user(role))
    create = next(w[3] for w in WRITES if w[0] == path)
    assert api.post(f"{path}/", create(world)).status_code == (201 if allowed else 403)


MODELS = (
    Organization,
    OrganizationalUnit,
    Account,
    BillingTransfer,
    BillingView,
    Team,
    EndCustomer,
)


def _top_id(model: Any) -> int:
    return int(max(model.objects.values_list("pk", flat=True), default=0))


def beta_rows() -> dict[str, Any]:
    """One row of each resource in tenant beta, with an id tenant alpha has not used."""
    alpha_top = {model: _top_id(model) for model in MODELS}
    with schema_context("beta"):
        ids = {model: max(alpha_top[model], _top_id(model)) + 1000 for model in MODELS}
        org = payer_org("Beta org", "999999999999")
        other = payer_org("Beta other", "888888888888")
        owner = make_user(Role.ADMIN, "beta-owner")
        return {
            "organizations": Organization.objects.create(pk=ids[Organization], name="Hidden"),
            "ous": OrganizationalUnit.objects.create(
                pk=ids[OrganizationalUnit], organization=org, name="Hidden"
            ),
            "accounts": Account.objects.create(pk=ids[Account], account_id="777777777777"),
            "transfers": BillingTransfer.objects.create(
                pk=ids[BillingTransfer],
                source=payer_of(other),
                destination=payer_of(org),
                start_date=next_start(),
            ),
            "billing-views": BillingView.objects.create(pk=ids[BillingView], name="H", owner=owner),
            "teams": Team.objects.create(pk=ids[Team], name="Hidden"),
            "end-customers": EndCustomer.objects.create(pk=ids[EndCustomer], legal_name="Hidden"),
        }


@pytest.mark.parametrize("path", [w[0] for w in WRITES] + ["transfers"])
def test_rows_of_another_tenant_are_not_found_and_its_tokens_are_refused(
    client_a: TenantClient, admin_a: User, path: str
) -> None:
    beta_row = beta_rows()[path]
    assert not type(beta_row).objects.filter(pk=beta_row.pk).exists()
    api = Api(client_a, admin_a)
    assert api.get(f"{path}/{beta_row.pk}/").status_code == 404
    assert api.patch(f"{path}/{beta_row.pk}/", {"name": "x"}).status_code in (404, 405)
    assert beta_row.pk not in [r["id"] for r in api.get(f"{path}/").json()["results"]]

    on_beta = TenantClient(TENANT_HOSTS["beta"])
    response = on_beta.get(f"/api/v1/{path}/{beta_row.pk}/", HTTP_AUTHORIZATION=api.auth)
    assert response.status_code == 401


def test_rows_of_another_tenant_cannot_be_referenced(admin_api: Api, world: World) -> None:
    beta_payer = beta_rows()["transfers"].destination_id
    assert not Account.objects.filter(pk=beta_payer).exists()
    response = admin_api.post("billing-views/", {"name": "Sneaky", "payers": [beta_payer]})
    assert response.status_code == 400
    assert response.json()["field"] == "payers"
    assert "does not exist" in response.json()["message"]


SERIAL = itertools.count(1)


def add_rows(path: str, rows: int, w: World) -> None:
    """More rows for the list `path`, each with its related rows filled in."""
    for _ in range(rows):
        n = next(SERIAL)
        tag = f"{path}-{n}"
        org = payer_org(f"Org {tag}", f"{100000000000 + n:012d}")
        if path == "ous":
            OrganizationalUnit.objects.create(organization=org, name=tag)
        elif path == "accounts":
            Account.objects.create(account_id=f"{200000000000 + n:012d}", organization=w.acme)
        elif path == "transfers":
            BillingTransfer.objects.create(
                source=payer_of(org),
                destination=payer_of(w.acme),
                start_date=next_start(),
            )
        elif path == "billing-views":
            view = BillingView.objects.create(name=tag, owner=w.finance)
            view.payers.set([payer_of(org)])
            view.ous.set([w.prod])
            view.shared_with.set([w.lead])
        elif path == "teams":
            Team.objects.create(name=tag).leads.set([w.lead, w.finance])
        elif path == "end-customers":
            customer = EndCustomer.objects.create(legal_name=tag)
            customer.payers.set([payer_of(org)])
            customer.viewers.set([w.viewer])


@pytest.mark.parametrize("path", [w[0] for w in WRITES] + ["transfers"])
def test_each_list_endpoint_uses_a_constant_number_of_queries(
    admin_api: Api, world: World, path: str
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_api.get(f"{path}/").status_code == 200
        return len(queries)

    add_rows(path, 2, world)
    few = count()
    add_rows(path, 8, world)
    assert count() == few
