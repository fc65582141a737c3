"""The invoices API: settings, runs, documents and their actions, reconciliation; by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from billing.models import EndCustomer
from invoices import tasks
from invoices.models import BillingUnit, Invoice, InvoiceRun, InvoiceStatus, PricingPlan
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.billing.ingest_fakes import FakeFiles
from tests.conftest import Api, TenantClient, make_user
from tests.invoices.world import JAN, allocate, plan, seller, unit

D = Decimal
MARGIN_KEYS = {
    "wholesale_total",
    "wholesale_amount",
    "margin",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "percent",
    "price_rule",
    "plan_name",
    "cost_basis",
    "allocation_run",
}


def keys(data: Any) -> Iterator[str]:
    """Every key of a JSON answer, at any depth."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from keys(item)


@pytest.fixture
def customer_user(tenant_a: Any) -> User:
    return make_user(Role.END_CUSTOMER, "gina-globex")


@pytest.fixture
def month(files: FakeFiles, customer_user: User) -> dict[str, Invoice]:
    """Globex (whose users see its invoices) issued; Initech drafted."""
    allocate(files)
    seller()
    globex = EndCustomer.objects.create(legal_name="Globex Incorporated")
    globex.viewers.add(customer_user)
    standard = plan(everything="10")
    unit("Globex", standard, end_customer=globex)
    unit("Initech", standard)
    invoice_drafts_create(period=JAN)
    issued = invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Globex"))
    return {"globex": issued, "initech": Invoice.objects.get(unit__value="Initech")}


def as_role(client: TenantClient, role: str) -> Api:
    return Api(client, make_user(role))


@pytest.fixture
def finance(client_a: TenantClient) -> Api:
    return as_role(client_a, Role.FINANCE)


# Settings ---------------------------------------------------------------------------


def test_finance_creates_a_plan_with_rules_and_charges(finance: Api) -> None:
    response = finance.post(
        "pricing-plans/",
        {
            "name": "Gold",
            "cost_basis": "effective_cost",
            "rules": [
                {"scope": "global", "percent": "10"},
                {"scope": "service", "service_name": "Amazon S3", "percent": "-5"},
            ],
            "charges": [
                {"kind": "fee", "description": "Support", "amount": "99", "first_month": "2026-01"}
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [(r["scope"], r["percent"]) for r in body["rules"]] == [
        ("global", "10.0000"),
        ("service", "-5.0000"),
    ]
    assert body["charges"][0]["first_month"] == "2026-01"
    assert body["charges"][0]["last_month"] is None

    changed = finance.patch(f"pricing-plans/{body['id']}/", {"rules": []})
    assert changed.status_code == 200, changed.content
    assert changed.json()["rules"] == [] and len(changed.json()["charges"]) == 1


def test_a_bad_rule_is_refused_with_its_row_named(finance: Api) -> None:
    response = finance.post(
        "pricing-plans/",
        {"name": "Bad", "rules": [{"scope": "global", "percent": "5"}, {"percent": "-120"}]},
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "discount_over_100",
        "message": "Rule 2: a discount cannot exceed 100 % (-120 % would make prices negative).",
        "field": "rules[1].percent",
    }
    assert not PricingPlan.objects.exists()


def test_a_reseller_admin_sets_a_units_plan(client_a: TenantClient, month: Any) -> None:
    reseller = as_role(client_a, Role.RESELLER_ADMIN)
    gold = plan("Gold", everything="25")
    initech = BillingUnit.objects.get(value="Initech")

    response = reseller.patch(f"billing-units/{initech.pk}/", {"plan": gold.pk})

    assert response.status_code == 200, response.content
    assert response.json()["plan_name"] == "Gold"
    assert AuditEntry.objects.filter(action="billingunit.update", actor__role=Role.RESELLER_ADMIN)


def test_a_unit_for_a_taken_value_is_refused(finance: Api, month: Any) -> None:
    globex = BillingUnit.objects.get(value="Globex")
    response = finance.post(
        "billing-units/",
        {
            "name": "Globex again",
            "category": globex.category_id,
            "value": "Globex",
            "legal_name": "Globex",
            "currency": "USD",
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "value_taken"
    assert response.json()["field"] == "value"
    bad = finance.post(
        "billing-units/",
        {"name": "X", "category": globex.category_id, "value": "X", "legal_name": "X",
         "currency": "dollars"},
    )  # fmt: skip
    assert (bad.json()["code"], bad.json()["field"]) == ("invalid_currency", "currency")


def test_the_seller_profile_is_read_and_replaced(client_a: TenantClient, finance: Api) -> None:
    assert finance.get("seller-profile/").json()["legal_name"] == ""

    response = client_a.put(
        "/api/v1/seller-profile/",
        {"legal_name": "Cloudreseller GmbH", "tax_id": "DE1", "invoice_prefix": "CR"},
        content_type="application/json",
        HTTP_AUTHORIZATION=finance.auth,
    )

    assert response.status_code == 200, response.content
    assert finance.get("seller-profile/").json()["invoice_prefix"] == "CR"
    refused = finance.patch("seller-profile/", {"credit_note_prefix": "CR"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "credit_note_prefix"


@pytest.mark.parametrize("role", [Role.END_CUSTOMER, Role.TEAM_LEAD])
def test_other_roles_neither_read_nor_change_settings(
    client_a: TenantClient, month: Any, role: str
) -> None:
    api = as_role(client_a, role)
    for path in ("pricing-plans/", "billing-units/", "seller-profile/", "invoice-runs/"):
        assert api.get(path).status_code == 403, path
    assert api.post("pricing-plans/", {"name": "Mine"}).status_code == 403
    assert api.patch("seller-profile/", {"legal_name": "Me"}).status_code == 403
    assert api.post("invoice-runs/", {"period": "2026-01"}).status_code == 403
    assert api.get("reconciliation/", {"period": "2026-01"}).status_code == 403


# Runs -------------------------------------------------------------------------------


def test_a_run_for_a_month_without_costs_is_refused(finance: Api) -> None:
    response = finance.post("invoice-runs/", {"period": "2031-07", "issue": False})

    assert response.status_code == 400
    assert response.json()["code"] == "period_not_loaded"
    assert response.json()["field"] == "period"
    assert not InvoiceRun.objects.exists()


def test_a_run_is_queued_after_commit_and_shows_its_progress(
    finance: Api,
    files: FakeFiles,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    allocate(files)
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.invoice_run, "delay", lambda *args: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post("invoice-runs/", {"period": "2026-01", "issue": True})

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["period"], body["issue"], body["status"]) == ("2026-01", True, "queued")
    assert sent == [("alpha", body["id"])]
    run = InvoiceRun.objects.get(pk=body["id"])
    run.units_total, run.units_done, run.status = 4, 1, "running"
    run.save()
    shown = finance.get(f"invoice-runs/{run.pk}/").json()
    assert (shown["units_done"], shown["units_total"], shown["progress_percent"]) == (1, 4, 25)


def test_a_run_needs_a_period(finance: Api) -> None:
    response = finance.post("invoice-runs/", {"period": "soon"})
    assert response.status_code == 400
    assert response.json()["field"] == "period"


def test_a_reseller_admin_reads_runs_but_does_not_start_them(client_a: TenantClient) -> None:
    reseller = as_role(client_a, Role.RESELLER_ADMIN)
    assert reseller.get("invoice-runs/").status_code == 200
    assert reseller.post("invoice-runs/", {"period": "2026-01"}).status_code == 403


# Documents --------------------------------------------------------------------------


def test_finance_lists_with_margins_and_filters(finance: Api, month: dict[str, Invoice]) -> None:
    rows = finance.get("invoices/").json()["results"]
    assert [(r["unit_name"], r["status"]) for r in rows] == [
        ("Globex Inc.", "issued"),
        ("Initech Inc.", "draft"),
    ]
    globex = rows[0]
    invoice = month["globex"]
    assert globex["wholesale_total"] == str(invoice.wholesale_total)
    assert globex["margin"] == str(invoice.subtotal - invoice.wholesale_total)
    assert globex["total"] == f"{invoice.total:.2f}"

    def units(**params: str) -> list[str]:
        return [r["unit_name"] for r in finance.get("invoices/", params).json()["results"]]

    assert units(status="draft") == ["Initech Inc."]
    assert units(period="2026-01", kind="invoice") == ["Globex Inc.", "Initech Inc."]
    assert units(period="2026-02") == []
    assert units(unit=str(invoice.unit_id)) == ["Globex Inc."]
    bad = finance.get("invoices/", {"status": "sent"})
    assert bad.status_code == 400
    assert (bad.json()["code"], bad.json()["field"]) == ("invalid_status", "status")
    assert finance.get("invoices/", {"period": "last"}).json()["field"] == "period"


def test_the_detail_shows_each_lines_wholesale_and_rule(
    finance: Api, month: dict[str, Invoice]
) -> None:
    body = finance.get(f"invoices/{month['globex'].pk}/").json()

    assert body["number"] == month["globex"].number
    assert body["seller_name"] == "Cloudreseller GmbH"
    line = body["lines"][0]
    assert line["price_rule"] == "+10% on all services"
    assert D(line["amount"]) - D(line["wholesale_amount"]) == D(line["margin"])
    assert body["taxes"] == [{"rate": "19", "base": body["subtotal"], "tax": body["tax_total"]}]
    assert body["credited"] == "0.00"


def test_an_end_customer_reads_only_its_issued_documents_without_margins(
    client_a: TenantClient, customer_user: User, month: dict[str, Invoice]
) -> None:
    customer = Api(client_a, customer_user)

    listed = customer.get("invoices/").json()
    detail = customer.get(f"invoices/{month['globex'].pk}/").json()

    assert [r["number"] for r in listed["results"]] == [month["globex"].number]
    assert detail["total"] == f"{month['globex'].total:.2f}"
    assert len(detail["lines"]) == month["globex"].lines.count()
    assert MARGIN_KEYS & set(keys(listed)) == set()
    assert MARGIN_KEYS & set(keys(detail)) == set()
    assert customer.get(f"invoices/{month['initech'].pk}/").status_code == 404
    assert customer.post(f"invoices/{month['globex'].pk}/void/", {"reason": "x"}).status_code == 403


def test_a_team_lead_gets_no_documents(client_a: TenantClient, month: dict[str, Invoice]) -> None:
    lead = as_role(client_a, Role.TEAM_LEAD)
    assert lead.get("invoices/").status_code == 403
    assert lead.get(f"invoices/{month['globex'].pk}/").status_code == 403


def test_finance_issues_pays_and_credits(finance: Api, month: dict[str, Invoice]) -> None:
    initech = month["initech"]

    issued = finance.post(f"invoices/{initech.pk}/issue/", {"issue_date": "2026-02-03"})
    assert issued.status_code == 200, issued.content
    assert issued.json()["number"].startswith("INV-2026-")
    assert issued.json()["due_date"] == "2026-03-05"

    again = finance.post(f"invoices/{initech.pk}/issue/")
    assert (again.status_code, again.json()["code"]) == (400, "not_a_draft")

    too_much = finance.post(
        f"invoices/{initech.pk}/credit-notes/", {"amount": "100000", "reason": "Goodwill"}
    )
    assert too_much.status_code == 400
    assert (too_much.json()["code"], too_much.json()["field"]) == ("credit_too_large", "amount")
    no_reason = finance.post(f"invoices/{initech.pk}/credit-notes/", {"amount": "5"})
    assert (no_reason.json()["code"], no_reason.json()["field"]) == ("reason", "reason")

    note = finance.post(f"invoices/{initech.pk}/credit-notes/", {"amount": "5", "reason": "SLA"})
    assert note.status_code == 201, note.content
    assert (note.json()["kind"], note.json()["original"]) == ("credit_note", initech.pk)
    assert note.json()["total"] == "5.95"
    assert note.json()["margin"] == "-5.00"  # it takes resale back; the wholesale stays
    assert finance.get(f"invoices/{initech.pk}/").json()["credited"] == "5.95"

    paid = finance.post(f"invoices/{initech.pk}/pay/", {"paid_on": "2026-02-20", "reference": "T1"})
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["payment_reference"]) == ("paid", "T1")


def test_voiding_needs_a_reason(finance: Api, month: dict[str, Invoice]) -> None:
    globex = month["globex"]

    refused = finance.post(f"invoices/{globex.pk}/void/", {})
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "reason",
        "message": "Say why it is voided.",
        "field": "reason",
    }

    voided = finance.post(f"invoices/{globex.pk}/void/", {"reason": "Wrong buyer"})
    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["number"]) == ("void", globex.number)


def test_a_reseller_admin_sees_margins_but_does_not_issue(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    reseller = as_role(client_a, Role.RESELLER_ADMIN)
    assert "margin" in reseller.get("invoices/").json()["results"][0]
    response = reseller.post(f"invoices/{month['initech'].pk}/issue/")
    assert response.status_code == 403
    assert Invoice.objects.get(pk=month["initech"].pk).status == InvoiceStatus.DRAFT


# Reconciliation ---------------------------------------------------------------------


def test_the_reconciliation_answers_exact_figures(finance: Api, month: Any) -> None:
    body = finance.get("reconciliation/", {"period": "2026-01"}).json()

    assert body["balanced"] is True
    (part,) = body["categories"]
    assert part["ingested"]["billed_cost"] == "233.453"
    assert part["invoiced_issued"]["billed_cost"] == "163.343"
    assert part["invoiced_drafts"]["billed_cost"] == "57.770"
    assert part["unallocated"]["billed_cost"] == "12.34"
    assert part["difference"] == {"billed_cost": "0.000", "effective_cost": "0.000",
                                  "list_cost": "0.000"}  # fmt: skip
    assert [i["unit_name"] for i in part["invoices"]] == ["Globex Inc.", "Initech Inc."]

    missing = finance.get("reconciliation/")
    assert (missing.status_code, missing.json()["field"]) == (400, "period")


# Query counts -----------------------------------------------------------------------


# Each request also reads its domain and token; each query is preceded by a SET search_path.
@pytest.mark.parametrize(
    ("path", "queries"),
    [("invoices/", 8), ("pricing-plans/", 12), ("billing-units/", 8), ("invoice-runs/", 8)],
)
def test_lists_take_a_constant_number_of_queries(
    finance: Api, month: Any, path: str, queries: int, django_assert_max_num_queries: Any
) -> None:
    for name in ("Umbrella", "Hooli", "Acme", "Wayne"):
        unit(name, plan(name, everything="1"))
        InvoiceRun.objects.create(period=JAN)
    invoice_drafts_create(period=JAN)

    with django_assert_max_num_queries(queries):
        response = finance.get(path)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 4


def test_the_detail_takes_a_constant_number_of_queries(
    finance: Api, month: dict[str, Invoice], django_assert_max_num_queries: Any
) -> None:
    # Domain, token, the invoice with its unit, its lines, its credit notes.
    with django_assert_max_num_queries(10):
        assert finance.get(f"invoices/{month['globex'].pk}/").status_code == 200


def test_the_detail_links_its_downloads(
    client_a: TenantClient, customer_user: User, month: dict[str, Invoice]
) -> None:
    pytest.importorskip("invoices.download_api_urls")
    globex = month["globex"]

    body = Api(client_a, customer_user).get(f"invoices/{globex.pk}/").json()

    assert body["downloads"] == {
        "pdf": f"/api/v1/invoices/{globex.pk}/pdf/",
        "csv": f"/api/v1/invoices/{globex.pk}/csv/",
    }
