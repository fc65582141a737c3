"""Issuing and voiding from the pages ask for a confirmation first."""

from __future__ import annotations

from typing import Any

from invoices.models import Invoice, InvoiceStatus, NumberSequence
from portal.core.money import money_text
from portal.users.models import Role
from tests.conftest import TenantClient, make_user


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def test_issuing_asks_first_and_issues_only_once_confirmed(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    client_a.force_login(make_user(Role.FINANCE))
    initech = month["initech"]
    sequences_before = list(NumberSequence.objects.values_list("last_number", flat=True))

    shown = page(client_a.post(f"/invoices/{initech.pk}/issue/"))

    initech.refresh_from_db()
    assert initech.status == InvoiceStatus.DRAFT and initech.number is None
    assert list(NumberSequence.objects.values_list("last_number", flat=True)) == sequences_before
    assert "Issue this invoice for Initech" in shown
    assert "cannot be edited afterwards" in shown and "next number" in shown
    assert f"{money_text(initech.total, initech.currency)} {initech.currency}" in shown
    assert 'name="confirm" value="yes"' in shown

    done = page(client_a.post(f"/invoices/{initech.pk}/issue/", {"confirm": "yes"}, follow=True))

    initech.refresh_from_db()
    assert initech.status == InvoiceStatus.ISSUED
    assert f"Issued {initech.number}." in done


def test_voiding_asks_first_and_carries_the_reason_to_the_confirmation(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    client_a.force_login(make_user(Role.FINANCE))
    globex = month["globex"]

    shown = page(client_a.post(f"/invoices/{globex.pk}/void/", {"void-reason": "Wrong buyer"}))

    assert Invoice.objects.get(pk=globex.pk).status == InvoiceStatus.ISSUED
    assert f"Void invoice {globex.number}?" in shown and "cannot be undone" in shown
    assert 'name="void-reason" value="Wrong buyer"' in shown

    client_a.post(f"/invoices/{globex.pk}/void/", {"void-reason": "Wrong buyer", "confirm": "yes"})

    voided = Invoice.objects.get(pk=globex.pk)
    assert (voided.status, voided.void_reason) == (InvoiceStatus.VOID, "Wrong buyer")
