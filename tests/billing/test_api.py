"""The billing REST API: each resource read through the permission layer, written via services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import (
    Account,
    BillingTransfer,
    OrganizationalUnit,
    Team,
    TransferStatus,
)
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.billing.world import World, add_rows, beta_rows, make_world, next_start, payer_of
from tests.conftest import TENANT_HOSTS, Api, TenantClient, make_user

pytestmark = pytest.mark.usefixtures("tenant_a")


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
    # An account of beta with an id alpha has not used (a transfer's payer gets whatever
    # id beta's sequence gives, which alpha may well have).
    beta_payer = beta_rows()["accounts"].pk
    assert not Account.objects.filter(pk=beta_payer).exists()
    response = admin_api.post("billing-views/", {"name": "Sneaky", "payers": [beta_payer]})
    assert response.status_code == 400
    assert response.json()["field"] == "payers"
    assert "does not exist" in response.json()["message"]


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
