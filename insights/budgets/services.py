"""Writes to budgets: each checked, saved with its thresholds, and audited."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from insights.models import Budget, BudgetThreshold
from portal.audit.services import audit_record, snapshot
from portal.core.errors import ApplicationError

BUDGET_FIELDS = (
    "name",
    "scope",
    "team",
    "billing_unit",
    "category",
    "value",
    "period",
    "amount",
    "monthly_amounts",
    "metric",
    "filters",
)
SCOPE_NEEDS = {
    Budget.Scope.TEAM: ("team",),
    Budget.Scope.BILLING_UNIT: ("billing_unit",),
    Budget.Scope.CATEGORY_VALUE: ("category", "value"),
    Budget.Scope.TENANT: (),
}


def _check_scope(budget: Budget) -> None:
    for field in SCOPE_NEEDS[Budget.Scope(budget.scope)]:
        if not getattr(budget, field):
            raise ApplicationError(
                f"A budget of a {budget.get_scope_display().lower()} names its {field}.",
                code="invalid",
                field=field,
            )


def _check_monthly(amounts: Any) -> None:
    if not isinstance(amounts, dict):
        raise ApplicationError(
            'Monthly amounts are {"YYYY-MM": "amount"}.', code="invalid", field="monthly_amounts"
        )
    for month, amount in amounts.items():
        try:
            valid = len(str(month)) == 7 and Decimal(str(amount)) >= 0
        except InvalidOperation:
            valid = False
        if not valid:
            raise ApplicationError(
                f"monthly_amounts: {month!r}: {amount!r} is not a month (YYYY-MM) with an "
                "amount of zero or more.",
                code="invalid",
                field="monthly_amounts",
            )


def _thresholds(budget: Budget, thresholds: list[dict[str, Any]]) -> None:
    """Make the budget's thresholds these. A threshold kept keeps its row and so its
    alerts: editing a budget does not fire again what fired in this period."""
    wanted: dict[tuple[str, Decimal, str], BudgetThreshold] = {}
    for index, spec in enumerate(thresholds):
        threshold = BudgetThreshold(
            budget=budget,
            kind=spec.get("kind", "percent"),
            value=spec.get("value", ""),
            basis=spec.get("basis", "actual"),
        )
        try:
            threshold.full_clean(exclude=["budget"], validate_constraints=False)
            if threshold.value <= 0:
                raise ValidationError({"value": "A threshold is above zero."})
        except ValidationError as error:
            field, messages = next(iter(error.message_dict.items()))
            raise ApplicationError(
                f"thresholds[{index}].{field}: {' '.join(messages)}",
                code="invalid",
                field=f"thresholds[{index}].{field}",
            ) from error
        key = (threshold.kind, threshold.value, threshold.basis)
        if key in wanted:
            raise ApplicationError(
                f"thresholds[{index}]: {threshold} is listed twice.",
                code="invalid",
                field=f"thresholds[{index}]",
            )
        wanted[key] = threshold
    for existing in budget.thresholds.all():
        if wanted.pop((existing.kind, existing.value, existing.basis), None) is None:
            existing.delete()
    for threshold in wanted.values():
        threshold.save()


def _save(budget: Budget, thresholds: list[dict[str, Any]] | None) -> Budget:
    _check_scope(budget)
    _check_monthly(budget.monthly_amounts)
    try:
        budget.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ApplicationError(" ".join(messages), code="invalid", field=field) from error
    budget.save()
    if thresholds is not None:
        _thresholds(budget, thresholds)
    return budget


def _state(budget: Budget) -> dict[str, Any]:
    return {
        **snapshot(budget),
        "thresholds": [str(t) for t in budget.thresholds.all()],
    }


@transaction.atomic
def budget_create(
    *, actor: Any, thresholds: list[dict[str, Any]] | None = None, **fields: Any
) -> Budget:
    budget = _save(Budget(**fields), thresholds or [])
    audit_record(actor=actor, action="budget.create", instance=budget, after=_state(budget))
    return budget


@transaction.atomic
def budget_update(
    *,
    actor: Any,
    budget: Budget,
    thresholds: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Budget:
    locked = Budget.objects.select_for_update().get(pk=budget.pk)
    before = _state(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    _save(locked, thresholds)
    audit_record(
        actor=actor, action="budget.update", instance=locked, before=before, after=_state(locked)
    )
    return locked


@transaction.atomic
def budget_delete(*, actor: Any, budget: Budget) -> None:
    audit_record(actor=actor, action="budget.delete", instance=budget, before=_state(budget))
    budget.delete()
