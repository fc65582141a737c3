"""What people read: an e-mail's text for each event, amounts rounded with their currency,
and the portal's address of the page an event is about."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection

from portal.core.money import money_text


def money(amount: Any, currency: str) -> str:
    """ "1,234.50 USD"; an amount that is not one is shown as it is."""
    if amount in (None, ""):
        return "n/a"
    try:
        return f"{money_text(Decimal(str(amount)), currency)} {currency}"
    except InvalidOperation:
        return f"{amount} {currency}"


def signed_money(amount: Any, currency: str) -> str:
    text = money(amount, currency)
    return text if text.startswith(("-", "n/a")) else f"+{text}"


def percent(value: Any) -> str:
    return "n/a" if value in (None, "") else f"{value} %"


def site_url(path: str) -> str:
    """The full address of `path` on this tenant's site (its primary domain), or the path
    alone when the tenant has none."""
    from portal.tenants.models import Domain

    schema = connection.schema_name  # type: ignore[attr-defined]
    domains = Domain.objects.filter(tenant__schema_name=schema, is_primary=True)
    domain = domains.values_list("domain", flat=True).first()
    if not domain or not path:
        return path
    scheme = "https" if getattr(settings, "HTTPS", True) else "http"
    port = getattr(settings, "SITE_PORT", "")
    return f"{scheme}://{domain}{f':{port}' if port else ''}{path}"


def _budget_text(p: dict[str, Any]) -> list[str]:
    currency = p.get("currency", "USD")
    return [
        f"Budget {p.get('budget')!r} ({p.get('scope')}, {p.get('period')}) crossed its "
        f"threshold: {p.get('threshold')}.",
        "",
        f"Period:    {p.get('period_start')} to {p.get('period_end')}",
        f"Budget:    {money(p.get('budget_amount'), currency)}",
        f"Threshold: {money(p.get('threshold_amount'), currency)}",
        f"Actual:    {money(p.get('actual'), currency)} ({percent(p.get('percent'))})",
        f"Forecast:  {money(p.get('forecast'), currency)} ({percent(p.get('forecast_percent'))})",
    ]


def _above(p: dict[str, Any]) -> str:
    if p.get("impact_percent") in (None, ""):
        return "a new cost: next to nothing was expected"
    return f"{percent(p['impact_percent'])} above expected"


def _anomaly_text(p: dict[str, Any]) -> list[str]:
    currency = p.get("currency", "USD")
    days = p.get("start_date"), p.get("end_date")
    when = days[0] if days[0] == days[1] else f"{days[0]} to {days[1]}"
    lines = [
        f"Cost anomaly: {p.get('dimension_label')} {p.get('label')}, {when}.",
        "",
        f"Expected: {money(p.get('expected'), currency)}",
        f"Actual:   {money(p.get('actual'), currency)}",
        f"Impact:   {signed_money(p.get('impact'), currency)} ({_above(p)})",
    ]
    causes = p.get("root_causes") or []
    if causes:
        lines += ["", "Top root causes:"]
        for cause in causes:
            name = cause.get("label") or cause.get("value")
            share = cause.get("share")
            lines.append(
                f"  - {str(cause.get('dimension', '')).replace('_', ' ')} {name}: "
                f"{signed_money(cause.get('impact'), currency)}"
                + (f" ({share} % of the impact)" if share not in (None, "") else "")
            )
    return lines


def email_text(event: str, subject: str, payload: dict[str, Any]) -> str:
    """The plain text body of an e-mail about `event`."""
    if event == "budget.alert":
        lines = _budget_text(payload)
    elif event == "anomaly.detected":
        lines = _anomaly_text(payload)
    else:
        lines = [subject, "", str(payload.get("message", ""))]
    link = payload.get("link")
    if link:
        lines += ["", f"Open it in the portal: {site_url(str(link))}"]
    lines += ["", "-- ", "Sent by the FinOps portal's notifications (Settings > Notifications)."]
    return "\n".join(lines) + "\n"
