"""Amounts and quantities as invoices print them."""

from __future__ import annotations

from decimal import Decimal

from django import template

from invoices.rendering.layout import quantity_text
from portal.core.templatetags.money_format import money

register = template.Library()
register.filter("money", money)


@register.filter
def quantity(value: Decimal | None) -> str:
    return quantity_text(value)


@register.filter
def percent(value: Decimal | str) -> str:
    return f"{Decimal(value).normalize():f} %"
