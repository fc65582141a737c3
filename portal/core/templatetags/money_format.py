"""Amounts on pages: rounded to the currency's minor unit at display, thousands grouped."""

from __future__ import annotations

from decimal import Decimal

from django import template

from portal.core.money import money_text

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    return money_text(Decimal(amount), currency)
