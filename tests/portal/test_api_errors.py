"""Bad input to the API gets a 400 with a code and a message, never a server error; every
API error, a 500 included, answers JSON in the API's error shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allocation.models import CostCategory
from portal.users.models import Role, User
from tests.allocation.run_helpers import category_with, cond, ingest, regular, run, use_fake_files
from tests.billing.ingest_fakes import line
from tests.conftest import Api, TenantClient, make_user
from tests.portal.api_routes import api_routes, concrete

DEEP_JSON = "[" * 1000 + "]" * 1000


def assert_error_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response.content
    body = response.json()
    assert isinstance(body["code"], str) and isinstance(body["message"], str), body
    assert "detail" not in body
    if code is not None:
        assert body["code"] == code, body
    return dict(body)


# Deep JSON ---------------------------------------------------------------------------


def test_a_deeply_nested_login_body_is_refused(client_a: TenantClient) -> None:
    response = client_a.post("/api/v1/auth/token/", DEEP_JSON, content_type="application/json")
    body = assert_error_shape(response, 400, "too_deep")
    assert "nested" in body["message"]


def test_a_deeply_nested_body_to_every_writing_endpoint_is_refused(
    client_a: TenantClient, admin_a: User
) -> None:
    admin = Api(client_a, admin_a)
    tried = 0
    for route in api_routes():
        for method in route.methods & {"post", "put", "patch"}:
            call = getattr(client_a, method)
            response = call(
                concrete(route.path),
                DEEP_JSON,
                content_type="application/json",
                HTTP_AUTHORIZATION=admin.auth,
            )
            # An upload endpoint takes multipart only: it says so instead.
            expected = 415 if route.path.startswith("ingests/") else 400
            assert response.status_code == expected, (method, route.path, response.content)
            assert_error_shape(response, expected)
            tried += 1
    assert tried > 30


def test_json_deeper_than_the_bound_is_refused_and_shallower_json_read(
    client_a: TenantClient, admin_a: User
) -> None:
    admin = Api(client_a, admin_a)
    too_deep = {"name": "Team", "x": _nested(65)}
    assert_error_shape(admin.post("cost-categories/", too_deep), 400, "too_deep")
    deep_enough = {"name": "Team", "default_value": "", "x": _nested(60)}
    assert admin.post("cost-categories/", deep_enough).status_code == 201


def _nested(levels: int) -> Any:
    """A JSON value of `levels` nested lists (the object holding it adds one more)."""
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def test_a_deeply_nested_rule_version_on_the_rules_page_is_a_form_error() -> None:
    from allocation.forms import VersionForm

    form = VersionForm(data={"effective_month": "2026-01", "rules": DEEP_JSON})
    assert not form.is_valid()
    assert "nested" in str(form.errors["rules"])


# Error shape -------------------------------------------------------------------------


def test_drf_errors_answer_in_the_error_shape(client_a: TenantClient, admin_a: User) -> None:
    anonymous = client_a.get("/api/v1/organizations/")
    assert_error_shape(anonymous, 401, "not_authenticated")
    assert anonymous["WWW-Authenticate"].startswith("Token")

    lead = Api(client_a, make_user(Role.TEAM_LEAD))
    assert_error_shape(lead.post("organizations/", {"name": "x"}), 403, "permission_denied")

    admin = Api(client_a, admin_a)
    assert_error_shape(admin.get("organizations/987654/"), 404, "not_found")
    assert_error_shape(admin.client.delete("/api/v1/organizations/",
                                           HTTP_AUTHORIZATION=admin.auth), 405,
                       "method_not_allowed")  # fmt: skip
    unsupported = client_a.post(
        "/api/v1/teams/", "name=x", content_type="text/plain", HTTP_AUTHORIZATION=admin.auth
    )
    assert_error_shape(unsupported, 415, "unsupported_media_type")
    broken = client_a.post(
        "/api/v1/teams/",
        '{"name": ',
        content_type="application/json",
        HTTP_AUTHORIZATION=admin.auth,
    )
    assert_error_shape(broken, 400, "parse_error")

    body = assert_error_shape(admin.post("teams/", {}), 400, "invalid")
    assert body["field"] == "name"
    assert body["message"].startswith("name: ")
    assert "name" in body["errors"]


def test_an_unknown_api_address_answers_json_404(client_a: TenantClient, admin_a: User) -> None:
    admin = Api(client_a, admin_a)
    assert_error_shape(admin.get("no-such-thing/"), 404, "not_found")
    assert_error_shape(client_a.get("/api/v1/no/such/thing/"), 404, "not_found")


def test_an_unhandled_error_answers_json_500_without_internals(
    tenant_a: Any, admin_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing.apis import TeamApi

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals at /srv/portal")

    monkeypatch.setattr(TeamApi, "get_queryset", broken)
    client = TenantClient(client_host(), raise_request_exception=False)
    client.force_login(admin_a)
    response = client.get("/api/v1/teams/")
    body = assert_error_shape(response, 500, "server_error")
    assert "secret" not in response.content.decode() and "RuntimeError" not in body["message"]


def client_host() -> str:
    from tests.conftest import TENANT_HOSTS

    return TENANT_HOSTS["alpha"]


# Explain -----------------------------------------------------------------------------


@pytest.fixture
def team(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CostCategory:
    fake = use_fake_files(tmp_path, monkeypatch)
    ingest(fake, [line(billed_cost="2.50", service_name="Amazon S3"), line(billed_cost="1")])
    return category_with("Team", [regular("web", cond("service", "equals", "Amazon S3"))])


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("value=", "required"),
        ("value=%00", "invalid_value"),
        ("value=web%00x", "invalid_value"),
        ("line_item=%00", "invalid_line_item"),
        ("line_item=99999999999999999999999", "invalid_line_item"),
    ],
)
def test_explain_refuses_an_empty_or_unreadable_value(
    client_a: TenantClient, team: CostCategory, query: str, code: str
) -> None:
    allocation = run(team)
    finance = Api(client_a, make_user(Role.FINANCE))
    response = finance.get(f"allocation-runs/{allocation.pk}/explain/?{query}")
    body = assert_error_shape(response, 400, code)
    assert body["field"] == query.split("=")[0]


def test_explain_refuses_an_empty_value_and_explains_a_named_one(
    client_a: TenantClient, team: CostCategory
) -> None:
    allocation = run(team)
    finance = Api(client_a, make_user(Role.FINANCE))
    empty = finance.get(f"allocation-runs/{allocation.pk}/explain/", {"value": " "})
    assert_error_shape(empty, 400, "required")
    web = finance.get(f"allocation-runs/{allocation.pk}/explain/", {"value": "web"})
    assert web.status_code == 200 and web.json()["total"]["billed_cost"] == "2.5"


# Decimals ----------------------------------------------------------------------------


@pytest.fixture
def finance_api(client_a: TenantClient) -> Api:
    return Api(client_a, make_user(Role.FINANCE))


@pytest.fixture
def issued_invoice(tenant_a: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoices.models import Invoice
    from invoices.services.drafts import invoice_drafts_create
    from invoices.services.issuing import invoice_issue
    from tests.invoices.world import JAN, allocate, plan, seller, unit

    allocate(use_fake_files(tmp_path, monkeypatch))
    seller()
    unit("Globex", plan(everything="10"))
    invoice_drafts_create(period=JAN)
    return invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Globex"))


@pytest.mark.parametrize(
    "amount",
    ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 30, "5.000001"],
)
def test_a_credit_note_amount_must_be_a_plain_number(
    finance_api: Api, issued_invoice: Any, amount: str
) -> None:
    response = finance_api.post(
        f"invoices/{issued_invoice.pk}/credit-notes/", {"amount": amount, "reason": "Goodwill"}
    )
    body = assert_error_shape(response, 400)
    assert body["field"] == "amount"
    assert issued_invoice.credit_notes.count() == 0


def test_a_credit_note_amount_as_a_json_number_outside_float_is_refused(
    finance_api: Api, issued_invoice: Any
) -> None:
    response = finance_api.client.post(
        f"/api/v1/invoices/{issued_invoice.pk}/credit-notes/",
        '{"amount": 1e400, "reason": "Goodwill"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=finance_api.auth,
    )
    assert assert_error_shape(response, 400)["field"] == "amount"

    response = finance_api.post(
        f"invoices/{issued_invoice.pk}/credit-notes/", {"amount": "1.5", "reason": "Goodwill"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["subtotal"] == "1.50"


@pytest.mark.parametrize("amount", ["1e400", "1" + "0" * 30, "5.000001"])
def test_the_credit_note_form_refuses_amounts_the_invoice_cannot_hold(amount: str) -> None:
    from invoices.forms import CreditNoteForm

    form = CreditNoteForm(data={"credit-amount": amount, "credit-reason": "Goodwill"})
    assert not form.is_valid() and "amount" in form.errors


@pytest.mark.parametrize("pk", ["99999999999999999999", "abc", "0"])
def test_every_address_of_one_row_answers_404_for_an_id_that_cannot_exist(
    admin: Api, pk: str
) -> None:
    tried = 0
    for route in api_routes():
        if "get" not in route.methods or "<" not in route.path:  # one row: a parameter
            continue
        response = admin.client.get(concrete(route.path, pk), HTTP_AUTHORIZATION=admin.auth)
        assert response.status_code == 404, (route.path, response.content)
        assert_error_shape(response, 404, "not_found")
        tried += 1
    assert tried > 15


@pytest.fixture
def admin(client_a: TenantClient, admin_a: User) -> Api:
    return Api(client_a, admin_a)
