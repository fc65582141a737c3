"""Amounts and quantities as invoices print them."""

from __future__ import annotations

from decimal import Decimal

from django import template

from invoices.rendering.layout import money_text, quantity_text

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    return money_text(Decimal(amount), currency)


@register.filter
def quantity(value: Decimal | None) -> str:
    return quantity_text(value)


@register.filter
def percent(value: Decimal | str) -> str:
    return f"{Decimal(value).normalize():f} %"
