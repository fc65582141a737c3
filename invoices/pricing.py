"""Prices from cost: which rule of a plan applies to a line, and the amount it gives."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from invoices.models import PriceRule
from invoices.models.plans import RuleScope
from invoices.money import HUNDRED, round_money


class PlanRules:
    """A plan's rules indexed by scope; `rule_for` picks the most specific one."""

    def __init__(self, rules: Iterable[PriceRule]) -> None:
        self.by_usage_type: dict[tuple[str, str], PriceRule] = {}
        self.by_service: dict[str, PriceRule] = {}
        self.everything: PriceRule | None = None
        for rule in rules:
            if rule.scope == RuleScope.USAGE_TYPE:
                self.by_usage_type[(rule.service_name, rule.usage_type)] = rule
            elif rule.scope == RuleScope.SERVICE:
                self.by_service[rule.service_name] = rule
            else:
                self.everything = rule

    def rule_for(self, service_name: str, usage_type: str) -> PriceRule | None:
        """Usage type (of this service, else of any service), then service, then global."""
        return (
            self.by_usage_type.get((service_name, usage_type))
            or self.by_usage_type.get(("", usage_type))
            or self.by_service.get(service_name)
            or self.everything
        )


def resale_amount(cost: Decimal, rule: PriceRule | None, currency: str) -> Decimal:
    """`cost` marked up or discounted by `rule`, rounded half-up to the minor unit."""
    percent = rule.percent if rule is not None else Decimal(0)
    return round_money(cost * (HUNDRED + percent) / HUNDRED, currency)
