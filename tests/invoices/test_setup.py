"""Invoice settings: the seller profile, pricing plans and billing units, each audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from allocation.models import CostCategory
from allocation.services import cost_category_create
from invoices.models import BillingUnit, InvoiceStatus, PricingPlan, SellerProfile
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from invoices.services.setup import (
    billing_unit_create,
    billing_unit_update,
    pricing_plan_create,
    pricing_plan_update,
    seller_profile_update,
)
from portal.audit.models import AuditEntry
from portal.core.errors import ApplicationError
from portal.users.models import Role, User
from tests.billing.ingest_fakes import FakeFiles
from tests.conftest import make_user
from tests.invoices.world import JAN, allocate

D = Decimal

pytestmark = pytest.mark.usefixtures("tenant_a")


@pytest.fixture
def finance() -> User:
    return make_user(Role.FINANCE, "fiona")


@pytest.fixture
def customers() -> CostCategory:
    return cost_category_create(actor=None, name="End customer")


def refused(code: str, field: str | None = None) -> Any:
    """Expect an ApplicationError with `code` naming `field`."""

    class Check:
        def __enter__(self) -> None:
            self.raises = pytest.raises(ApplicationError)
            self.info = self.raises.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = self.raises.__exit__(*exc)
            error = self.info.value
            assert (error.code, error.field) == (code, field), error.as_dict()
            return bool(handled)

    return Check()


# Seller profile ---------------------------------------------------------------------


def test_the_seller_profile_is_made_once_then_changed_and_audited(finance: User) -> None:
    first = seller_profile_update(actor=finance, legal_name=" Cloudreseller GmbH ", tax_id="DE1")
    second = seller_profile_update(actor=finance, address="Hauptstrasse 1", invoice_prefix="rs")

    assert SellerProfile.objects.count() == 1
    assert second.pk == first.pk
    assert (second.legal_name, second.tax_id, second.address) == (
        "Cloudreseller GmbH",
        "DE1",
        "Hauptstrasse 1",
    )
    assert second.invoice_prefix == "RS"
    created = AuditEntry.objects.get(action="sellerprofile.create")
    changed = AuditEntry.objects.get(action="sellerprofile.update")
    assert created.actor == finance
    assert changed.before is not None and changed.after is not None
    assert (changed.before["invoice_prefix"], changed.after["invoice_prefix"]) == ("INV", "RS")


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"legal_name": "  "}, "required", "legal_name"),
        ({"legal_name": "S", "invoice_prefix": "IN V"}, "invalid_prefix", "invoice_prefix"),
        ({"legal_name": "S", "credit_note_prefix": "inv"}, "same_prefixes", "credit_note_prefix"),
        ({"legal_name": "S", "colour": "red"}, "invalid_field", None),
    ],
)
def test_a_bad_seller_profile_is_refused(data: dict[str, str], code: str, field: str) -> None:
    with refused(code, field):
        seller_profile_update(actor=None, **data)
    assert not SellerProfile.objects.exists()


# Pricing plans ----------------------------------------------------------------------

RULES = [
    {"scope": "global", "percent": "10"},
    {"scope": "service", "service_name": "Amazon S3", "percent": "-5"},
    {"scope": "usage_type", "usage_type": "BoxUsage:m5.large", "percent": "12.5"},
]
CHARGES = [
    {"kind": "fee", "description": "Managed service", "basis": "percent", "amount": "3"},
    {
        "kind": "credit",
        "description": "Welcome credit",
        "basis": "flat",
        "amount": "50",
        "first_month": "2026-01",
        "last_month": "2026-01",
    },
]


def charges(**first: Any) -> list[dict[str, Any]]:
    return [{**CHARGES[0], "first_month": "2026-01", **first}, CHARGES[1]]


def test_a_plan_is_created_with_its_rules_and_charges(finance: User) -> None:
    plan = pricing_plan_create(
        actor=finance, name="Gold", cost_basis="effective_cost", rules=RULES, charges=charges()
    )

    assert plan.cost_basis == "effective_cost"
    assert sorted((r.scope, str(r.percent)) for r in plan.rules.all()) == [
        ("global", "10.0000"),
        ("service", "-5.0000"),
        ("usage_type", "12.5000"),
    ]
    welcome = plan.charges.get(kind="credit")
    assert (welcome.first_month, welcome.last_month) == (JAN, JAN)
    entry = AuditEntry.objects.get(action="pricingplan.create", object_id=str(plan.pk))
    assert entry.actor == finance
    assert entry.after is not None
    assert [r["percent"] for r in entry.after["rules"]] == ["10.0000", "-5.0000", "12.5000"]


def test_changing_rules_replaces_them_and_keeps_the_charges(finance: User) -> None:
    plan = pricing_plan_create(actor=None, name="Gold", rules=RULES, charges=charges())

    pricing_plan_update(
        actor=finance, instance=plan, rules=[{"scope": "global", "percent": "20"}], name="Gold+"
    )

    plan.refresh_from_db()
    assert plan.name == "Gold+"
    assert [str(r.percent) for r in plan.rules.all()] == ["20.0000"]
    assert plan.charges.count() == 2
    entry = AuditEntry.objects.get(action="pricingplan.update")
    assert entry.before is not None and entry.after is not None
    assert len(entry.before["rules"]) == 3 and len(entry.after["rules"]) == 1


@pytest.mark.parametrize(
    ("rules", "plan_charges", "code", "field"),
    [
        ([{"scope": "global", "percent": "-100.5"}], [], "discount_over_100", "rules[0].percent"),
        ([RULES[0], {"scope": "global", "percent": "x"}], [], "invalid_number", "rules[1].percent"),
        ([{"scope": "service", "percent": "1"}], [], "required", "rules[0].service_name"),
        ([{"scope": "region", "percent": "1"}], [], "invalid_scope", "rules[0].scope"),
        ([RULES[1], {**RULES[1], "percent": "3"}], [], "duplicate_rule", "rules[1]"),
        ([{"scope": "global", "percent": "1.00001"}], [], "too_precise", "rules[0].percent"),
        ([], charges(last_month="2025-12"), "months_reversed", "charges[0].last_month"),
        ([], charges(first_month="2026-01-15"), "invalid_month", "charges[0].first_month"),
        ([], charges(amount="-3"), "amount_not_positive", "charges[0].amount"),
        ([], charges(kind="rebate"), "invalid_kind", "charges[0].kind"),
        ([], charges(description=""), "required", "charges[0].description"),
        ([], [{**CHARGES[1], "first_month": None}], "required", "charges[0].first_month"),
    ],
)
def test_a_bad_rule_or_charge_is_refused_naming_its_row(
    rules: list[Any], plan_charges: list[Any], code: str, field: str
) -> None:
    with refused(code, field):
        pricing_plan_create(actor=None, name="Bad", rules=rules, charges=plan_charges)
    assert not PricingPlan.objects.exists()


def test_a_plan_name_and_cost_basis_are_checked() -> None:
    pricing_plan_create(actor=None, name="Gold")
    with refused("plan_taken", "name"):
        pricing_plan_create(actor=None, name="gold")
    with refused("invalid_cost_basis", "cost_basis"):
        pricing_plan_create(actor=None, name="Silver", cost_basis="contracted_cost")


def test_a_refused_change_leaves_the_plan_as_it_was() -> None:
    plan = pricing_plan_create(actor=None, name="Gold", rules=RULES)

    with refused("discount_over_100", "rules[0].percent"):
        pricing_plan_update(actor=None, instance=plan, rules=[{"percent": "-101"}])

    assert plan.rules.count() == 3
    assert not AuditEntry.objects.filter(action="pricingplan.update").exists()


# Billing units ----------------------------------------------------------------------


def unit_data(category: CostCategory, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Globex Inc.",
        "category": category,
        "value": "Globex",
        "legal_name": "Globex Incorporated",
        "address": "1 Globex Way",
        "tax_id": "US-1",
        "currency": "eur",
        "payment_terms_days": 14,
        "tax_rate": "19",
        **changes,
    }


def test_a_unit_is_created_for_a_category_value_and_audited(
    finance: User, customers: CostCategory
) -> None:
    gold = pricing_plan_create(actor=None, name="Gold")

    created = billing_unit_create(actor=finance, plan=gold, **unit_data(customers))

    assert (created.currency, created.tax_rate, created.plan) == ("EUR", D("19"), gold)
    entry = AuditEntry.objects.get(action="billingunit.create", object_id=str(created.pk))
    assert entry.actor == finance


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"currency": "EURO"}, "invalid_currency", "currency"),
        ({"currency": "E1R"}, "invalid_currency", "currency"),
        ({"tax_rate": "120"}, "invalid_tax_rate", "tax_rate"),
        ({"payment_terms_days": 400}, "invalid_payment_terms", "payment_terms_days"),
        ({"legal_name": " "}, "required", "legal_name"),
        ({"value": ""}, "required", "value"),
    ],
)
def test_a_bad_unit_is_refused(
    customers: CostCategory, changes: dict[str, Any], code: str, field: str
) -> None:
    with refused(code, field):
        billing_unit_create(actor=None, **unit_data(customers, **changes))
    assert not BillingUnit.objects.exists()


def test_a_category_value_has_one_unit(customers: CostCategory) -> None:
    billing_unit_create(actor=None, **unit_data(customers))

    with refused("value_taken", "value"):
        billing_unit_create(actor=None, **unit_data(customers, name="Globex again"))
    with refused("unit_taken", "name"):
        billing_unit_create(actor=None, **unit_data(customers, value="Initech"))


def test_a_change_is_audited_with_before_and_after(customers: CostCategory) -> None:
    created = billing_unit_create(actor=None, **unit_data(customers))
    billing_unit_create(actor=None, **unit_data(customers, name="Initech", value="Initech"))

    changed = billing_unit_update(actor=None, instance=created, tax_rate="7", value="Umbrella")
    assert (changed.tax_rate, changed.value) == (D("7"), "Umbrella")
    entry = AuditEntry.objects.get(action="billingunit.update")
    assert entry.before is not None and entry.after is not None
    assert (D(entry.before["tax_rate"]), D(entry.after["tax_rate"])) == (D("19"), D("7"))

    with refused("value_taken", "value"):
        billing_unit_update(actor=None, instance=created, value="Initech")
    with refused("invalid_field", None):
        billing_unit_update(actor=None, instance=created, invoices=[])


def test_a_unit_with_issued_invoices_stays_on_its_value(files: FakeFiles) -> None:
    allocate(files)
    seller_profile_update(actor=None, legal_name="Cloudreseller GmbH")
    customers = CostCategory.objects.get(name="End customer")
    plan = pricing_plan_create(actor=None, name="Gold")
    unit = billing_unit_create(actor=None, plan=plan, **unit_data(customers, currency="USD"))
    invoice_drafts_create(period=JAN)
    invoice_issue(actor=None, invoice=unit.invoices.get(), issue_date=date(2026, 2, 3))
    assert unit.invoices.get().status == InvoiceStatus.ISSUED

    with refused("unit_has_invoices", "value"):
        billing_unit_update(actor=None, instance=unit, value="Initech")
    renamed = billing_unit_update(actor=None, instance=unit, legal_name="Globex Corp.")
    assert renamed.legal_name == "Globex Corp."
    assert unit.invoices.get().buyer_name == "Globex Incorporated"
