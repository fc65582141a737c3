"""Applying a billing transfer's change (accepted, withdrawn) to the stored months.

The payer of record of each loaded month is refreshed from the transfers now in force,
then the apps built on billing are told which months changed (`payers_of_record_changed`)
so they recompute what they derived (invoices redraft the open drafts; issued invoices
never change). It runs in a Celery task after the transfer's step commits, and is safe to
run again: a second run finds nothing left to change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection, transaction

from billing.models import BillingTransfer, LoadedPeriod
from billing.payers import refresh_payers_of_record
from billing.signals import payers_of_record_changed
from portal.audit.services import audit_record


def transfer_effects_queue(transfer: BillingTransfer) -> None:
    """After the caller's transaction commits, apply `transfer`'s change in the background."""
    from billing.tasks import transfer_effects  # the tasks import this module

    schema = connection.schema_name  # type: ignore[attr-defined]
    transaction.on_commit(lambda: transfer_effects.delay(schema, transfer.pk))


@transaction.atomic
def transfer_effects_apply(*, transfer_id: int, actor: Any = None) -> list[date]:
    """Refresh the payers of record from the transfer's first month on; the changed months."""
    transfer = BillingTransfer.objects.select_related("source", "destination").get(pk=transfer_id)
    months = sorted(
        set(
            LoadedPeriod.objects.filter(billing_period_start__gte=transfer.start_date).values_list(
                "billing_period_start", flat=True
            )
        )
    )
    changed = refresh_payers_of_record(months)
    changed_months = sorted({row.billing_period_start for row in changed})
    audit_record(
        actor=actor,
        action="billingtransfer.effects",
        instance=transfer,
        after={
            "status": transfer.status,
            "months": [f"{m:%Y-%m}" for m in changed_months],
            "bills": [
                f"{row.billing_period_start:%Y-%m} {row.billing_account_id} → {row.payer_of_record}"
                for row in changed
            ],
        },
        actor_name="billing transfer",
    )
    if changed_months:
        payers_of_record_changed.send(sender=BillingTransfer, months=changed_months)
    return changed_months
