"""The invoices API: seller profile, pricing plans, billing units and invoice runs; by role."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from invoices import tasks
from invoices.models import BillingUnit, InvoiceRun, PricingPlan
from portal.audit.models import AuditEntry
from portal.users.models import Role
from tests.billing.ingest_fakes import FakeFiles
from tests.conftest import Api, TenantClient, make_user
from tests.invoices.world import allocate, plan

D = Decimal


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
    reseller = Api(client_a, make_user(Role.RESELLER_ADMIN))
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
    api = Api(client_a, make_user(role))
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
    reseller = Api(client_a, make_user(Role.RESELLER_ADMIN))
    assert reseller.get("invoice-runs/").status_code == 200
    assert reseller.post("invoice-runs/", {"period": "2026-01"}).status_code == 403
