"""Invoice settings: the seller profile, pricing plans (rules, fees, credits), billing units.

Admins, finance and reseller admins change these (see `invoices.apis.SETUP_WRITERS`);
every change is one audited transaction. A refusal names the field at fault, for a
plan's rules and charges as `rules[2].percent` or `charges[0].last_month` (the row's
index in the list given).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction

from allocation.models import CostCategory
from billing.models import EndCustomer
from billing.services._common import model_errors_as_application_errors, refuse_unknown_fields
from invoices.models import (
    BillingUnit,
    ChargeBasis,
    ChargeKind,
    CostBasis,
    DocumentKind,
    InvoiceStatus,
    PlanCharge,
    PriceRule,
    PricingPlan,
    SellerProfile,
)
from invoices.models.plans import RuleScope
from invoices.selectors import plan_data
from portal.audit.services import audit_record, audited_create, audited_update
from portal.core.errors import ApplicationError

SELLER_FIELDS = frozenset(
    {"legal_name", "address", "tax_id", "invoice_prefix", "credit_note_prefix", "payment_details"}
)
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
PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
PERCENT_LIMIT = Decimal("100000")  # percent_field: 9 digits, 4 of them decimals
AMOUNT_LIMIT = Decimal("1e13")


# Seller profile ----------------------------------------------------------------------


def _clean_prefix(value: Any, field: str) -> str:
    prefix = str(value or "").strip().upper()
    if not PREFIX.match(prefix):
        raise ApplicationError(
            f"A number prefix is 1 to 10 letters or digits (e.g. INV), not {value!r}.",
            code="invalid_prefix",
            field=field,
        )
    return prefix


@transaction.atomic
def seller_profile_update(*, actor: Any, **data: Any) -> SellerProfile:
    """Create or change the tenant's one seller profile; fields not given stay as they are."""
    refuse_unknown_fields(data, SELLER_FIELDS, "seller profile")
    # One profile per tenant: two first saves at once must not make two rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"{connection.schema_name}.invoices.seller_profile"],  # type: ignore[attr-defined]
        )
    current = SellerProfile.objects.order_by("pk").first()
    values = {name: (str(value or "").strip()) for name, value in data.items()}
    for name in ("invoice_prefix", "credit_note_prefix"):
        if name in values:
            values[name] = _clean_prefix(values[name], name)
    legal_name = values.get("legal_name", current.legal_name if current else "")
    if not legal_name:
        raise ApplicationError(
            "The seller's legal name is printed on every invoice; give one.",
            code="required",
            field="legal_name",
        )
    invoice_prefix = values.get("invoice_prefix", current.invoice_prefix if current else "INV")
    note_prefix = values.get("credit_note_prefix", current.credit_note_prefix if current else "CN")
    if invoice_prefix == note_prefix:
        raise ApplicationError(
            f"Invoices and credit notes need different number prefixes; both are "
            f"{invoice_prefix!r}.",
            code="same_prefixes",
            field="credit_note_prefix",
        )
    with model_errors_as_application_errors():
        if current is None:
            return audited_create(actor=actor, instance=SellerProfile(**values))
        return audited_update(actor=actor, instance=current, data=values)


# Pricing plans -----------------------------------------------------------------------


def _decimal(value: Any, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            f"{label}: {value!r} is not a number.", code="invalid_number", field=field
        ) from None
    if not number.is_finite():
        raise ApplicationError(
            f"{label}: {value!r} is not a number.", code="invalid_number", field=field
        )
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ApplicationError(
            f"{label}: {value} has more than 4 decimal places.", code="too_precise", field=field
        )
    return number


def _month(value: Any, field: str, label: str, *, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            raise ApplicationError(
                f"{label}: give a month (YYYY-MM).", code="required", field=field
            )
        return None
    if isinstance(value, date):
        month = value
    else:
        text = str(value).strip()
        try:
            month = date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
        except ValueError:
            raise ApplicationError(
                f"{label}: {value!r} is not a month (YYYY-MM).", code="invalid_month", field=field
            ) from None
    if month.day != 1:
        raise ApplicationError(
            f"{label}: charges run by whole months; give {month:%Y-%m} rather than {month}.",
            code="invalid_month",
            field=field,
        )
    return month


def _text(row: dict[str, Any], name: str) -> str:
    return str(row.get(name) or "").strip()


def _refuse_unknown_keys(row: dict[str, Any], known: set[str], where: str, label: str) -> None:
    unknown = sorted(set(row) - known - {"id"})
    if unknown:
        raise ApplicationError(
            f"{label}: unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}.",
            code="unknown_field",
            field=f"{where}.{unknown[0]}",
        )


def _rule_target(scope: str, service: str, usage_type: str) -> str:
    if scope == RuleScope.GLOBAL:
        return "every service"
    if scope == RuleScope.SERVICE:
        return service
    return f"{usage_type} of {service}" if service else usage_type


def clean_rule(index: int, row: Any) -> dict[str, Any]:
    """One price rule as `PriceRule` takes it; refusals name `rules[index].<field>`."""
    where = f"rules[{index}]"
    label = f"Rule {index + 1}"
    if not isinstance(row, dict):
        raise ApplicationError(f"{label} is not an object.", code="invalid_rule", field=where)
    _refuse_unknown_keys(row, {"scope", "service_name", "usage_type", "percent"}, where, label)
    scope = _text(row, "scope") or RuleScope.GLOBAL
    if scope not in RuleScope.values:
        raise ApplicationError(
            f"{label}: scope is one of {', '.join(RuleScope.values)}, not {scope!r}.",
            code="invalid_scope",
            field=f"{where}.scope",
        )
    service, usage_type = _text(row, "service_name"), _text(row, "usage_type")
    if scope == RuleScope.GLOBAL and (service or usage_type):
        raise ApplicationError(
            f"{label}: a global rule applies to every service; leave service and usage type "
            "empty, or choose the service or usage type scope.",
            code="invalid_scope",
            field=f"{where}.service_name" if service else f"{where}.usage_type",
        )
    if scope == RuleScope.SERVICE and not service:
        raise ApplicationError(
            f"{label}: name the service it prices (e.g. Amazon EC2).",
            code="required",
            field=f"{where}.service_name",
        )
    if scope == RuleScope.SERVICE and usage_type:
        raise ApplicationError(
            f"{label}: a service rule prices all of the service; use the usage type scope "
            f"for {usage_type!r}.",
            code="invalid_scope",
            field=f"{where}.usage_type",
        )
    if scope == RuleScope.USAGE_TYPE and not usage_type:
        raise ApplicationError(
            f"{label}: name the usage type it prices (e.g. BoxUsage:m5.large).",
            code="required",
            field=f"{where}.usage_type",
        )
    if row.get("percent") in (None, ""):
        raise ApplicationError(
            f"{label}: give a percent (+15 marks up by 15 %, -5 discounts by 5 %).",
            code="required",
            field=f"{where}.percent",
        )
    percent = _decimal(row["percent"], f"{where}.percent", label)
    if percent < -100:
        raise ApplicationError(
            f"{label}: a discount cannot exceed 100 % ({percent} % would make prices negative).",
            code="discount_over_100",
            field=f"{where}.percent",
        )
    if percent >= PERCENT_LIMIT:
        raise ApplicationError(
            f"{label}: a markup of {percent} % is out of range.",
            code="percent_too_large",
            field=f"{where}.percent",
        )
    return {"scope": scope, "service_name": service, "usage_type": usage_type, "percent": percent}


def _refuse_duplicate_rules(rules: list[dict[str, Any]]) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for index, rule in enumerate(rules):
        key = (rule["scope"], rule["service_name"], rule["usage_type"])
        if key in seen:
            target = _rule_target(*key)
            raise ApplicationError(
                f"Rule {index + 1} prices {target} like rule {seen[key] + 1}: each scope has "
                "one rule; keep one of them.",
                code="duplicate_rule",
                field=f"rules[{index}]",
            )
        seen[key] = index


def clean_charge(index: int, row: Any) -> dict[str, Any]:
    """One fee or credit as `PlanCharge` takes it; refusals name `charges[index].<field>`."""
    where = f"charges[{index}]"
    label = f"Charge {index + 1}"
    if not isinstance(row, dict):
        raise ApplicationError(f"{label} is not an object.", code="invalid_charge", field=where)
    _refuse_unknown_keys(
        row, {"kind", "description", "basis", "amount", "first_month", "last_month"}, where, label
    )
    kind = _text(row, "kind") or ChargeKind.FEE
    if kind not in ChargeKind.values:
        raise ApplicationError(
            f"{label}: kind is fee or credit, not {kind!r}.",
            code="invalid_kind",
            field=f"{where}.kind",
        )
    description = _text(row, "description")
    if not description:
        raise ApplicationError(
            f"{label}: give a description; it is printed on the invoice.",
            code="required",
            field=f"{where}.description",
        )
    if len(description) > 200:
        raise ApplicationError(
            f"{label}: the description has {len(description)} characters; 200 at most.",
            code="too_long",
            field=f"{where}.description",
        )
    basis = _text(row, "basis") or ChargeBasis.FLAT
    if basis not in ChargeBasis.values:
        raise ApplicationError(
            f"{label}: basis is flat or percent, not {basis!r}.",
            code="invalid_basis",
            field=f"{where}.basis",
        )
    if row.get("amount") in (None, ""):
        raise ApplicationError(
            f"{label}: give an amount.", code="required", field=f"{where}.amount"
        )
    amount = _decimal(row["amount"], f"{where}.amount", label)
    if amount <= 0:
        raise ApplicationError(
            f"{label}: the amount is positive; a {'credit' if kind == 'credit' else 'fee'} "
            f"of {amount} would be {'a fee' if kind == 'credit' else 'a credit'} "
            "(choose the other kind).",
            code="amount_not_positive",
            field=f"{where}.amount",
        )
    if amount >= AMOUNT_LIMIT or (basis == ChargeBasis.PERCENT and amount > 100):
        limit = "100 %" if basis == ChargeBasis.PERCENT else "10,000,000,000,000"
        raise ApplicationError(
            f"{label}: {amount} is more than {limit}.",
            code="amount_too_large",
            field=f"{where}.amount",
        )
    first = _month(row.get("first_month"), f"{where}.first_month", label, required=True)
    last = _month(row.get("last_month"), f"{where}.last_month", label, required=False)
    assert first is not None
    if last is not None and last < first:
        raise ApplicationError(
            f"{label}: the last month ({last:%Y-%m}) is before the first ({first:%Y-%m}).",
            code="months_reversed",
            field=f"{where}.last_month",
        )
    return {
        "kind": kind,
        "description": description,
        "basis": basis,
        "amount": amount,
        "first_month": first,
        "last_month": last,
    }


def _clean_rows(rows: Any, what: str) -> list[Any]:
    if rows is None:
        return []
    if not isinstance(rows, list | tuple):
        raise ApplicationError(f"The {what} are a list.", code=f"invalid_{what}", field=what)
    return list(rows)


def _plan_name(name: Any, *, instance: PricingPlan | None = None) -> str:
    text = str(name or "").strip()
    if not text:
        raise ApplicationError("Give the plan a name.", code="required", field="name")
    taken = PricingPlan.objects.filter(name__iexact=text)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ApplicationError(
            f"A pricing plan named {text!r} exists.", code="plan_taken", field="name"
        )
    return text


def _cost_basis(value: Any) -> str:
    basis = str(value or "").strip()
    if basis not in CostBasis.values:
        raise ApplicationError(
            f"The cost basis is one of {', '.join(CostBasis.values)}, not {value!r}.",
            code="invalid_cost_basis",
            field="cost_basis",
        )
    return basis


def _replace_rows(
    plan: PricingPlan, rules: list[dict[str, Any]] | None, charges: list[dict[str, Any]] | None
) -> None:
    with model_errors_as_application_errors():
        if rules is not None:
            plan.rules.all().delete()
            rows = [PriceRule(plan=plan, **rule) for rule in rules]
            for row in rows:
                row.full_clean(exclude=["plan"], validate_unique=False)
            PriceRule.objects.bulk_create(rows)
        if charges is not None:
            plan.charges.all().delete()
            items = [PlanCharge(plan=plan, **charge) for charge in charges]
            for item in items:
                item.full_clean(exclude=["plan"])
            PlanCharge.objects.bulk_create(items)


def clean_plan_rows(
    rules: Any, charges: Any
) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """Check a plan's rules and charges; None stays None (the rows are kept as they are)."""
    cleaned_rules = None
    if rules is not None:
        cleaned_rules = [clean_rule(i, row) for i, row in enumerate(_clean_rows(rules, "rules"))]
        _refuse_duplicate_rules(cleaned_rules)
    cleaned_charges = None
    if charges is not None:
        cleaned_charges = [
            clean_charge(i, row) for i, row in enumerate(_clean_rows(charges, "charges"))
        ]
    return cleaned_rules, cleaned_charges


@transaction.atomic
def pricing_plan_create(
    *,
    actor: Any,
    name: str,
    cost_basis: str = CostBasis.BILLED,
    description: str = "",
    rules: list[dict[str, Any]] | None = None,
    charges: list[dict[str, Any]] | None = None,
) -> PricingPlan:
    """A plan with its markup or discount rules and its fees and credits.

    With no rule, a plan invoices the cost as it is (in its cost basis column).
    """
    cleaned_rules, cleaned_charges = clean_plan_rows(rules or [], charges or [])
    plan = PricingPlan(
        name=_plan_name(name),
        cost_basis=_cost_basis(cost_basis),
        description=str(description or "").strip(),
    )
    with model_errors_as_application_errors():
        plan.full_clean()
    plan.save()
    _replace_rows(plan, cleaned_rules, cleaned_charges)
    audit_record(actor=actor, action="pricingplan.create", instance=plan, after=plan_data(plan))
    return plan


@transaction.atomic
def pricing_plan_update(
    *,
    actor: Any,
    instance: PricingPlan,
    name: str | None = None,
    cost_basis: str | None = None,
    description: str | None = None,
    rules: list[dict[str, Any]] | None = None,
    charges: list[dict[str, Any]] | None = None,
) -> PricingPlan:
    """Change a plan; `rules` or `charges`, when given, replace all of that kind.

    Issued invoices keep the prices they were issued with; the next invoice run prices
    drafts with the plan as it is then.
    """
    plan = PricingPlan.objects.select_for_update().get(pk=instance.pk)
    before = plan_data(plan)
    cleaned_rules, cleaned_charges = clean_plan_rows(rules, charges)
    if name is not None:
        plan.name = _plan_name(name, instance=plan)
    if cost_basis is not None:
        plan.cost_basis = _cost_basis(cost_basis)
    if description is not None:
        plan.description = str(description).strip()
    with model_errors_as_application_errors():
        plan.full_clean()
    plan.save()
    _replace_rows(plan, cleaned_rules, cleaned_charges)
    after = plan_data(plan)
    if after != before:
        audit_record(
            actor=actor, action="pricingplan.update", instance=plan, before=before, after=after
        )
    return plan


# Billing units -----------------------------------------------------------------------


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
    rate = _decimal(0 if value in (None, "") else value, "tax_rate", "Tax rate")
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
