"""Pricing plans: their cost basis, markup and discount rules, fees and credits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from billing.services._common import model_errors_as_application_errors
from invoices.models import CostBasis, PlanCharge, PriceRule, PricingPlan
from invoices.selectors import plan_data
from invoices.services.setup.plan_rows import clean_plan_rows
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError


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
