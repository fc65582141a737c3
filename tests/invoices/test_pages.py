"""The invoice pages: who sees what, the actions, the runs, the settings forms, reconciling."""

from __future__ import annotations

from typing import Any

import pytest

from invoices import tasks
from invoices.models import BillingUnit, Invoice, InvoiceRun, InvoiceStatus, PricingPlan
from invoices.services.drafts import invoice_drafts_create
from portal.users.models import Role, User
from tests.billing.ingest_fakes import FakeFiles
from tests.conftest import TenantClient, make_user
from tests.invoices.world import JAN, allocate, plan, unit


def logged_in(client: TenantClient, role: str) -> TenantClient:
    client.force_login(make_user(role))
    return client


def number(invoice: Invoice) -> str:
    assert invoice.number is not None
    return invoice.number


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


# Who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN])
def test_margin_roles_see_every_invoice_with_its_margin(
    client_a: TenantClient, month: dict[str, Invoice], role: str
) -> None:
    page = text(logged_in(client_a, role).get("/invoices/"))

    assert number(month["globex"]) in page
    assert "Initech Inc." in page and "draft" in page
    assert "Margin" in page and str(month["globex"].margin) in page
    assert ">Invoices</a>" in page  # the menu entry
    detail = text(client_a.get(f"/invoices/{month['globex'].pk}/"))
    assert "Wholesale" in detail and "+10% on all services" in detail


def test_an_end_customer_sees_its_issued_invoices_without_margins(
    client_a: TenantClient, customer_user: User, month: dict[str, Invoice]
) -> None:
    client_a.force_login(customer_user)

    page = text(client_a.get("/invoices/"))
    detail = text(client_a.get(f"/invoices/{month['globex'].pk}/"))

    assert "Your invoices" in page and number(month["globex"]) in page
    assert "Initech" not in page
    for shown in (page, detail):
        assert "Margin" not in shown and "Wholesale" not in shown and "on all services" not in shown
    assert "Globex Incorporated" in detail and "Amazon EC2" in detail
    assert "/allocation/runs/" not in detail
    assert ">Issue<" not in detail and "Credit note" not in detail
    assert client_a.get(f"/invoices/{month['initech'].pk}/").status_code == 404
    for path in ("runs/", "units/", "plans/", "seller/", "reconciliation/"):
        assert client_a.get(f"/invoices/{path}").status_code == 403, path
    void = client_a.post(f"/invoices/{month['globex'].pk}/void/", {"void-reason": "x"})
    assert void.status_code == 403


def test_a_team_lead_has_no_invoice_pages(client_a: TenantClient, month: Any) -> None:
    logged_in(client_a, Role.TEAM_LEAD)

    assert client_a.get("/invoices/").status_code == 403
    assert client_a.get(f"/invoices/{month['globex'].pk}/").status_code == 403
    assert "/invoices/" not in text(client_a.get("/"))


def test_the_list_filters_and_sums_by_currency(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    logged_in(client_a, Role.FINANCE)

    drafts = text(client_a.get("/invoices/", {"status": "draft", "period": "2026-01"}))
    assert "Initech Inc." in drafts and number(month["globex"]) not in drafts
    everything = text(client_a.get("/invoices/"))
    total = month["globex"].total + month["initech"].total
    assert "2 invoices in USD" in everything and f"{total:,.2f}" in everything
    bad = text(client_a.get("/invoices/", {"status": "sent"}))
    assert "Select a valid choice" in bad


def test_the_list_takes_a_constant_number_of_queries(
    client_a: TenantClient, month: Any, django_assert_max_num_queries: Any
) -> None:
    logged_in(client_a, Role.FINANCE)
    for name in ("Umbrella", "Hooli", "Acme", "Wayne"):
        unit(name, plan(name))
    invoice_drafts_create(period=JAN)

    # Session, user, periods, units to filter by, the count, the rows, the sums (each
    # after a SET search_path): none per row.
    with django_assert_max_num_queries(16):
        assert client_a.get("/invoices/").status_code == 200


# Actions ----------------------------------------------------------------------------


def test_finance_issues_credits_and_voids_from_the_detail_page(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    logged_in(client_a, Role.FINANCE)
    initech = month["initech"]
    assert ">Issue</button>" in text(client_a.get(f"/invoices/{initech.pk}/"))

    issued = client_a.post(f"/invoices/{initech.pk}/issue/", {"confirm": "yes"}, follow=True)
    initech.refresh_from_db()
    assert initech.status == InvoiceStatus.ISSUED
    assert f"Issued {initech.number}." in text(issued)

    too_much = client_a.post(
        f"/invoices/{initech.pk}/credit-note/",
        {"credit-amount": "99999", "credit-reason": "Goodwill"},
        follow=True,
    )
    assert "is larger than what is left to credit" in text(too_much)
    credited = client_a.post(
        f"/invoices/{initech.pk}/credit-note/",
        {"credit-amount": "", "credit-reason": "Billed twice"},
        follow=True,
    )
    note = Invoice.objects.get(original=initech)
    assert f"Issued credit note {note.number}." in text(credited)
    assert note.total == initech.total
    listed = text(client_a.get("/invoices/", {"kind": "credit_note"}))
    assert (
        f"\N{MINUS SIGN}{note.subtotal}" in listed
    )  # a credit note takes its subtotal off the margin
    assert "Wholesale" not in text(client_a.get(f"/invoices/{note.pk}/"))

    no_reason = client_a.post(f"/invoices/{month['globex'].pk}/void/", {}, follow=True)
    assert "Reason: This field is required." in text(no_reason)
    client_a.post(
        f"/invoices/{month['globex'].pk}/void/", {"void-reason": "Wrong buyer", "confirm": "yes"}
    )
    assert Invoice.objects.get(pk=month["globex"].pk).status == InvoiceStatus.VOID


def test_marking_paid_records_the_reference(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    logged_in(client_a, Role.ADMIN)
    globex = month["globex"]

    client_a.post(
        f"/invoices/{globex.pk}/pay/", {"pay-paid_on": "2026-02-20", "pay-reference": "T1"}
    )

    globex.refresh_from_db()
    assert (globex.status, globex.payment_reference) == (InvoiceStatus.PAID, "T1")
    assert "(T1)" in text(client_a.get(f"/invoices/{globex.pk}/"))


def test_a_reseller_admin_reads_but_does_not_issue(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    logged_in(client_a, Role.RESELLER_ADMIN)
    initech = month["initech"]

    assert ">Issue</button>" not in text(client_a.get(f"/invoices/{initech.pk}/"))
    assert client_a.post(f"/invoices/{initech.pk}/issue/").status_code == 403
    assert "Start a run" not in text(client_a.get("/invoices/runs/"))


# Runs -------------------------------------------------------------------------------


def test_finance_starts_a_run_and_watches_it(
    client_a: TenantClient,
    month: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.invoice_run, "delay", lambda *args: sent.append(args))
    logged_in(client_a, Role.FINANCE)
    assert "Issue the invoices too" in text(client_a.get("/invoices/runs/"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/invoices/runs/new/", {"period": "2026-01", "issue": "on"})

    run = InvoiceRun.objects.get(issue=True)
    assert response.status_code == 302 and response["Location"] == f"/invoices/runs/{run.pk}/"
    assert sent == [("alpha", run.pk)]
    waiting = text(client_a.get(f"/invoices/runs/{run.pk}/"))
    assert 'http-equiv="refresh"' in waiting and "Waiting for a worker" in waiting

    tasks.invoice_run.run("alpha", run.pk)
    done = text(client_a.get(f"/invoices/runs/{run.pk}/"))
    assert 'http-equiv="refresh"' not in done
    assert "1 invoice(s) drafted, 1 issued." in done
    refused = client_a.post("/invoices/runs/new/", {"period": "2031-01"}, follow=True)
    assert "Choose a billing period whose cost data is loaded." in text(refused)


# Settings ---------------------------------------------------------------------------


def unit_form(**changes: str) -> dict[str, str]:
    from allocation.models import CostCategory

    return {
        "name": "Hooli Inc.",
        "category": str(CostCategory.objects.get(name="End customer").pk),
        "value": "Hooli",
        "legal_name": "Hooli Incorporated",
        "currency": "USD",
        "payment_terms_days": "30",
        "tax_rate": "19",
        "plan": str(PricingPlan.objects.get().pk),
        **changes,
    }


def test_a_reseller_admin_creates_and_edits_billing_units(
    client_a: TenantClient, month: Any
) -> None:
    logged_in(client_a, Role.RESELLER_ADMIN)

    taken = text(client_a.post("/invoices/units/new/", unit_form(value="Globex")))
    assert "is billed to Globex Inc. already" in taken
    bad_currency = text(client_a.post("/invoices/units/new/", unit_form(currency="Euro")))
    assert "three-letter ISO 4217 code" in bad_currency

    created = client_a.post("/invoices/units/new/", unit_form())
    assert created.status_code == 302
    hooli = BillingUnit.objects.get(value="Hooli")
    assert "Hooli Inc." in text(client_a.get("/invoices/units/"))
    edit = text(client_a.get(f"/invoices/units/{hooli.pk}/edit/"))
    assert 'value="Hooli Incorporated"' in edit
    client_a.post(f"/invoices/units/{hooli.pk}/edit/", unit_form(tax_rate="7"))
    hooli.refresh_from_db()
    assert str(hooli.tax_rate) == "7.0000"


def plan_form(rules: list[dict[str, str]], charges: list[dict[str, str]], **plan: str) -> dict:
    data = {
        "name": "Gold",
        "cost_basis": "billed_cost",
        "description": "",
        "rules-TOTAL_FORMS": str(len(rules)),
        "rules-INITIAL_FORMS": "0",
        "charges-TOTAL_FORMS": str(len(charges)),
        "charges-INITIAL_FORMS": "0",
        **plan,
    }
    for prefix, rows in (("rules", rules), ("charges", charges)):
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


BLANK_RULE = {"scope": "global"}
BLANK_CHARGE = {"kind": "fee", "basis": "flat"}


def test_finance_builds_a_plan_with_rules_and_charges(
    client_a: TenantClient, tenant_a: Any
) -> None:
    logged_in(client_a, Role.FINANCE)
    assert "rules-TOTAL_FORMS" in text(client_a.get("/invoices/plans/new/"))
    rules = [
        {"scope": "global", "percent": "10"},
        BLANK_RULE,
        {"scope": "service", "service_name": "Amazon S3", "percent": "-105"},
    ]
    charges = [
        {"kind": "fee", "basis": "flat", "description": "Support", "amount": "99",
         "first_month": "2026-03", "last_month": "2026-01"},
        BLANK_CHARGE,
    ]  # fmt: skip

    refused = text(client_a.post("/invoices/plans/new/", plan_form(rules, charges)))
    assert "a discount cannot exceed 100 %" in refused
    assert not PricingPlan.objects.exists()

    rules[2]["percent"] = "-5"
    refused = text(client_a.post("/invoices/plans/new/", plan_form(rules, charges)))
    assert "the last month (2026-01) is before the first (2026-03)" in refused

    charges[0]["last_month"] = ""
    saved = client_a.post("/invoices/plans/new/", plan_form(rules, charges))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    gold = PricingPlan.objects.get(name="Gold")
    assert sorted(str(r.percent) for r in gold.rules.all()) == ["-5.0000", "10.0000"]
    assert gold.charges.get().description == "Support"
    listing = text(client_a.get("/invoices/plans/"))
    assert "Amazon S3" in listing and "Support" in listing

    edit = text(client_a.get(f"/invoices/plans/{gold.pk}/edit/"))
    assert 'value="Amazon S3"' in edit and 'value="2026-03"' in edit
    changed = plan_form([{**rules[0], "DELETE": "on"}, rules[2]], [charges[0]], name="Gold 2")
    assert client_a.post(f"/invoices/plans/{gold.pk}/edit/", changed).status_code == 302
    gold.refresh_from_db()
    assert gold.name == "Gold 2"
    assert [str(r.percent) for r in gold.rules.all()] == ["-5.0000"]


def test_the_seller_profile_is_edited_on_its_page(client_a: TenantClient, tenant_a: Any) -> None:
    logged_in(client_a, Role.ADMIN)

    same = text(
        client_a.post(
            "/invoices/seller/",
            {"legal_name": "Cloudreseller", "invoice_prefix": "X", "credit_note_prefix": "X"},
        )
    )
    assert "need different number prefixes" in same
    saved = client_a.post(
        "/invoices/seller/",
        {"legal_name": "Cloudreseller", "invoice_prefix": "CR", "credit_note_prefix": "CRN"},
    )
    assert saved.status_code == 302
    assert 'value="CRN"' in text(client_a.get("/invoices/seller/"))


def test_the_reconciliation_page_shows_each_figure(client_a: TenantClient, month: Any) -> None:
    logged_in(client_a, Role.FINANCE)

    page = text(client_a.get("/invoices/reconciliation/", {"period": "2026-01"}))

    assert "Reconciliation of 2026-01" in page and "balanced" in page
    for figure in ("233.453", "163.343", "57.770", "12.34"):
        assert figure in page
    assert "Choose a month" in text(client_a.get("/invoices/reconciliation/", {"period": "x"}))


def test_the_detail_links_the_downloads(client_a: TenantClient, month: dict[str, Invoice]) -> None:
    from django.urls import reverse

    logged_in(client_a, Role.FINANCE)
    page = text(client_a.get(f"/invoices/{month['globex'].pk}/"))
    assert reverse("invoice-pdf", args=[month["globex"].pk]) in page
    assert reverse("invoice-csv", args=[month["globex"].pk]) in page
    draft = text(client_a.get(f"/invoices/{month['initech'].pk}/"))
    assert "Preview PDF (draft)" in draft
    assert reverse("invoice-pdf", args=[month["initech"].pk]) in draft


def test_an_invoice_names_its_allocation_run_even_once_the_run_is_replaced(
    client_a: TenantClient, files: FakeFiles, month: dict[str, Invoice]
) -> None:
    first = month["globex"].allocation_run
    assert first is not None
    logged_in(client_a, Role.FINANCE)
    before = text(client_a.get(f"/invoices/{month['globex'].pk}/"))

    allocate(files)  # the month allocated again: the first run's results are replaced

    after = text(client_a.get(f"/invoices/{month['globex'].pk}/"))
    link = f'<a href="/allocation/runs/{first.pk}/">run {first.pk}</a>, rules version 1'
    assert link in before and "since replaced" not in before
    assert link in after and "(since replaced by a later run)" in after
    assert "replaced this one" in text(client_a.get(f"/allocation/runs/{first.pk}/"))
