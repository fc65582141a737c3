"""What the billing transfer tests share: dates, payers A to D, invitations."""

from __future__ import annotations

from datetime import date

from billing.models import BillingTransfer
from portal.audit.models import AuditEntry
from portal.audit.services import snapshot

TODAY = date(2025, 3, 10)
APR, MAY, JUN, JUL = date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)
END_MAY, END_JUN = date(2025, 5, 31), date(2025, 6, 30)


def transfer_entries() -> int:
    return AuditEntry.objects.filter(object_type="billing.BillingTransfer").count()


def assert_nothing_changed(transfer: BillingTransfer, entries: int) -> None:
    assert snapshot(BillingTransfer.objects.get(pk=transfer.pk)) == snapshot(transfer)
    assert transfer_entries() == entries
