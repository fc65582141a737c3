"""The invoices API: documents and their actions, reconciliation, query counts; by role."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from invoices.models import Invoice, InvoiceRun, InvoiceStatus
from invoices.services.drafts import invoice_drafts_create
from portal.users.models import Role, User
from tests.conftest import Api, TenantClient, make_user
from tests.invoices.world import JAN, plan, unit

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
    lead = Api(client_a, make_user(Role.TEAM_LEAD))
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
    reseller = Api(client_a, make_user(Role.RESELLER_ADMIN))
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
    globex = month["globex"]

    body = Api(client_a, customer_user).get(f"invoices/{globex.pk}/").json()

    assert body["downloads"] == {
        "pdf": f"/api/v1/invoices/{globex.pk}/pdf/",
        "csv": f"/api/v1/invoices/{globex.pk}/csv/",
    }
