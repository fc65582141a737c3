"""A pricing plan's rules and charges as people give them (lists of objects), checked row
by row: a refusal names the row and field, e.g. `rules[2].percent`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from invoices.models import ChargeBasis, ChargeKind
from invoices.models.plans import RuleScope
from invoices.services.setup.values import decimal_value, month_value
from portal.core.errors import ApplicationError

PERCENT_LIMIT = Decimal("100000")  # percent_field: 9 digits, 4 of them decimals
AMOUNT_LIMIT = Decimal("1e13")


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
    percent = decimal_value(row["percent"], f"{where}.percent", label)
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
    amount = decimal_value(row["amount"], f"{where}.amount", label)
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
    first = month_value(row.get("first_month"), f"{where}.first_month", label, required=True)
    last = month_value(row.get("last_month"), f"{where}.last_month", label, required=False)
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
