"""Billing units: who is invoiced for one cost category value, at which plan and terms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import transaction

from allocation.models import CostCategory
from billing.models import EndCustomer
from billing.services._common import model_errors_as_application_errors, refuse_unknown_fields
from invoices.models import BillingUnit, DocumentKind, InvoiceStatus, PricingPlan
from invoices.services.setup.values import decimal_value
from portal.audit.services import audited_create, audited_update
from portal.core.errors import ApplicationError

UNIT_FIELDS = frozenset(
    {
        "name",
        "category",
        "value",
        "legal_name",
        "address",
        "tax_id",
        "currency",
        "payment_terms_days",
        "tax_rate",
        "plan",
        "end_customer",
    }
)
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _clean_currency(value: Any) -> str:
    currency = str(value or "").strip().upper()
    if not CURRENCY.match(currency):
        raise ApplicationError(
            f"The currency is a three-letter ISO 4217 code such as USD or EUR, not {value!r}.",
            code="invalid_currency",
            field="currency",
        )
    return currency


def _clean_tax_rate(value: Any) -> Decimal:
    rate = decimal_value(0 if value in (None, "") else value, "tax_rate", "Tax rate")
    if not 0 <= rate <= 100:
        raise ApplicationError(
            f"The tax rate is a percent from 0 to 100, not {rate}.",
            code="invalid_tax_rate",
            field="tax_rate",
        )
    return rate


def _clean_terms(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
        raise ApplicationError(
            f"Payment terms are 0 to 365 days, not {days!r}.",
            code="invalid_payment_terms",
            field="payment_terms_days",
        )
    return days


UNIT_CLEANERS = {
    "currency": _clean_currency,
    "tax_rate": _clean_tax_rate,
    "payment_terms_days": _clean_terms,
}
UNIT_RELATIONS = (("category", CostCategory), ("plan", PricingPlan), ("end_customer", EndCustomer))


def _clean_unit_fields(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    for name in ("name", "value", "legal_name", "address", "tax_id"):
        if name in values:
            values[name] = str(values[name] or "").strip()
    for name, clean in UNIT_CLEANERS.items():
        if name in values:
            values[name] = clean(values[name])
    for name, model in UNIT_RELATIONS:
        if values.get(name) is not None and not isinstance(values[name], model):
            raise ApplicationError(
                f"{name.replace('_', ' ').capitalize()}: expected a {model._meta.verbose_name}.",
                code="invalid",
                field=name,
            )
    return values


def _refuse_taken(unit: BillingUnit) -> None:
    others = BillingUnit.objects.exclude(pk=unit.pk) if unit.pk else BillingUnit.objects.all()
    if not unit.name:
        raise ApplicationError("Give the billing unit a name.", code="required", field="name")
    if not unit.value:
        raise ApplicationError(
            "Name the cost category value whose costs this unit pays (e.g. Globex).",
            code="required",
            field="value",
        )
    if not unit.legal_name:
        raise ApplicationError(
            "Give the legal name invoices are addressed to.", code="required", field="legal_name"
        )
    if others.filter(name__iexact=unit.name).exists():
        raise ApplicationError(
            f"A billing unit named {unit.name!r} exists.", code="unit_taken", field="name"
        )
    holder = others.filter(category=unit.category, value=unit.value).first()
    if holder is not None:
        raise ApplicationError(
            f"{unit.category.name} = {unit.value!r} is billed to {holder.name} already; "
            "a category value has one billing unit.",
            code="value_taken",
            field="value",
        )


@transaction.atomic
def billing_unit_create(
    *,
    actor: Any,
    name: str,
    category: CostCategory,
    value: str,
    legal_name: str,
    address: str = "",
    tax_id: str = "",
    currency: str = "USD",
    payment_terms_days: int = 30,
    tax_rate: Decimal | str = Decimal(0),
    plan: PricingPlan | None = None,
    end_customer: EndCustomer | None = None,
) -> BillingUnit:
    """Who is invoiced for the costs of `category` = `value`, and at which plan.

    A unit without a plan is named, not invoiced, by invoice runs.
    """
    values = _clean_unit_fields(
        {
            "name": name,
            "category": category,
            "value": value,
            "legal_name": legal_name,
            "address": address,
            "tax_id": tax_id,
            "currency": currency,
            "payment_terms_days": payment_terms_days,
            "tax_rate": tax_rate,
            "plan": plan,
            "end_customer": end_customer,
        }
    )
    if values["category"] is None:
        raise ApplicationError(
            "Choose the cost category whose value this unit pays.",
            code="required",
            field="category",
        )
    unit = BillingUnit(**values)
    _refuse_taken(unit)
    with model_errors_as_application_errors():
        return audited_create(actor=actor, instance=unit)


@transaction.atomic
def billing_unit_update(*, actor: Any, instance: BillingUnit, **data: Any) -> BillingUnit:
    """Change a unit; issued invoices keep the buyer they were issued to.

    A unit with issued invoices stays bound to its category value: those invoices and
    their reconciliation read it.
    """
    refuse_unknown_fields(data, UNIT_FIELDS, "billing unit")
    values = _clean_unit_fields(data)
    current = BillingUnit.objects.select_for_update().get(pk=instance.pk)
    moved = [
        name
        for name in ("category", "value")
        if name in values and values[name] != getattr(current, name)
    ]
    if moved and _has_issued_invoices(current):
        raise ApplicationError(
            f"{current.name} has issued invoices for {current.category.name} = "
            f"{current.value!r}; it stays bound to that value. Create another unit instead.",
            code="unit_has_invoices",
            field=moved[0],
        )
    if "category" in values and values["category"] is None:
        raise ApplicationError(
            "Choose the cost category whose value this unit pays.",
            code="required",
            field="category",
        )

    def validate(unit: BillingUnit) -> None:
        _refuse_taken(unit)

    with model_errors_as_application_errors():
        return audited_update(actor=actor, instance=current, data=values, validate=validate)


def _has_issued_invoices(unit: BillingUnit) -> bool:
    return (
        unit.invoices.filter(kind=DocumentKind.INVOICE).exclude(status=InvoiceStatus.DRAFT).exists()
    )
