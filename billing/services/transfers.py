"""The billing transfer state machine.

    pending --accept--> accepted --withdraw--> withdrawn
    pending --decline--> declined
    pending --cancel--> cancelled

A transfer covers whole months: it starts on a 1st and ends on a month's last day, or runs
on. Accepting or withdrawing one refreshes the payers of record of the loaded months in the
background (`billing.transfer_effects`). Every refused step raises ApplicationError with a
code and changes nothing; every step taken records one audit entry named
`billingtransfer.<step>` with the values before and after.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.models import Account, BillingTransfer, TransferStatus
from billing.services._common import model_errors_as_application_errors, require_payers
from billing.services.transfer_rules import (
    ONE_DAY,
    check_invitation_dates,
    check_one_destination_and_no_cycle,
    is_active_on,
    month_end,
    withdrawal_end,
)
from billing.transfer_effects import transfer_effects_queue
from portal.audit.services import acting_user, audit_record, snapshot
from portal.core.errors import ApplicationError

__all__ = [
    "billing_transfer_accept",
    "billing_transfer_cancel",
    "billing_transfer_decline",
    "billing_transfer_invite",
    "billing_transfer_withdraw",
    "is_active_on",
    "month_end",
]


def _lock_payers() -> None:
    """Serialize invitations and acceptances within the tenant.

    The one-destination and no-cycle rules read transfers between many payers, so locking
    the two payers of one transfer is not enough (two accepts can close a cycle between
    four payers). Every payer row is locked, in id order so two callers never deadlock.
    """
    payers = Account.objects.payers().select_for_update(of=("self",)).order_by("pk")
    list(payers.values_list("pk", flat=True))


@transaction.atomic
def billing_transfer_invite(
    *,
    actor: Any,
    source: Account,
    destination: Account,
    start_date: date,
    end_date: date | None = None,
    note: str = "",
    today: date | None = None,
) -> BillingTransfer:
    """The destination payer invites the source payer to transfer its billing to it."""
    today = today or timezone.localdate()
    if source.pk == destination.pk:
        raise ApplicationError(
            f"{source} cannot transfer its billing to itself.",
            code="transfer_to_itself",
            field="destination",
        )
    require_payers([source], field="source")
    require_payers([destination], field="destination")
    check_invitation_dates(start_date, end_date, today)
    _lock_payers()
    pending = BillingTransfer.objects.filter(
        source=source,
        destination=destination,
        status=TransferStatus.PENDING,
        start_date__gt=today + ONE_DAY,  # expired invitations no longer count
    )
    if pending.exists():
        raise ApplicationError(
            f"{destination} has already invited {source}; cancel that invitation first.",
            code="duplicate_invite",
        )
    check_one_destination_and_no_cycle(source, destination, start_date, end_date, exclude=None)
    transfer = BillingTransfer(
        source=source,
        destination=destination,
        start_date=start_date,
        end_date=end_date,
        note=note.strip(),
        invited_by=acting_user(actor),
    )
    with model_errors_as_application_errors():
        transfer.full_clean()
    transfer.save()
    audit_record(
        actor=actor, action="billingtransfer.invite", instance=transfer, after=snapshot(transfer)
    )
    return transfer


def _locked(transfer: BillingTransfer) -> BillingTransfer:
    rows = BillingTransfer.objects.select_for_update(of=("self",))
    return rows.select_related("source", "destination").get(pk=transfer.pk)


def _require_status(transfer: BillingTransfer, status: TransferStatus, step: str) -> None:
    if transfer.status == status:
        return
    if status == TransferStatus.PENDING:
        wanted, code = "a pending invitation", "transfer_not_pending"
    else:
        wanted, code = "an accepted transfer", "transfer_not_accepted"
    hint = " Withdraw it instead." if transfer.status == TransferStatus.ACCEPTED else ""
    raise ApplicationError(
        f"This transfer is {transfer.status}; only {wanted} can be {step}.{hint}", code=code
    )


def _save_step(
    *, actor: Any, transfer: BillingTransfer, before: dict[str, Any], step: str
) -> BillingTransfer:
    with model_errors_as_application_errors():
        transfer.full_clean()
    transfer.save()
    audit_record(
        actor=actor,
        action=f"billingtransfer.{step}",
        instance=transfer,
        before=before,
        after=snapshot(transfer),
    )
    return transfer


@transaction.atomic
def billing_transfer_accept(
    *, actor: Any, transfer: BillingTransfer, today: date | None = None
) -> BillingTransfer:
    """The source payer accepts; at least one day before the start, else it has expired."""
    today = today or timezone.localdate()
    _lock_payers()
    locked = _locked(transfer)
    _require_status(locked, TransferStatus.PENDING, "accepted")
    if today >= locked.start_date - ONE_DAY:
        raise ApplicationError(
            f"This invitation has expired: a transfer must be accepted at least a day before "
            f"it starts, and this one starts on {locked.start_date}.",
            code="transfer_expired",
        )
    check_one_destination_and_no_cycle(
        locked.source, locked.destination, locked.start_date, locked.end_date, exclude=locked.pk
    )
    before = snapshot(locked)
    locked.status = TransferStatus.ACCEPTED
    locked.responded_at = timezone.now()
    _save_step(actor=actor, transfer=locked, before=before, step="accept")
    transfer_effects_queue(locked)
    return locked


def _close_invitation(
    *, actor: Any, transfer: BillingTransfer, status: TransferStatus, step: str, done: str
) -> BillingTransfer:
    locked = _locked(transfer)
    _require_status(locked, TransferStatus.PENDING, done)
    before = snapshot(locked)
    locked.status = status
    locked.responded_at = timezone.now()
    return _save_step(actor=actor, transfer=locked, before=before, step=step)


@transaction.atomic
def billing_transfer_decline(*, actor: Any, transfer: BillingTransfer) -> BillingTransfer:
    """The source payer declines a pending invitation."""
    return _close_invitation(
        actor=actor,
        transfer=transfer,
        status=TransferStatus.DECLINED,
        step="decline",
        done="declined",
    )


@transaction.atomic
def billing_transfer_cancel(*, actor: Any, transfer: BillingTransfer) -> BillingTransfer:
    """The inviting (destination) payer withdraws a pending invitation.

    `responded_at` then records when the invitation was closed.
    """
    return _close_invitation(
        actor=actor,
        transfer=transfer,
        status=TransferStatus.CANCELLED,
        step="cancel",
        done="cancelled",
    )


@transaction.atomic
def billing_transfer_withdraw(
    *,
    actor: Any,
    transfer: BillingTransfer,
    end_date: date | None = None,
    today: date | None = None,
) -> BillingTransfer:
    """Either side ends an accepted transfer at the end of a month; it cannot be undone.

    Without `end_date`, a transfer that has started ends at the end of the current month
    (billing moves by whole months, so the month under way stays with the destination);
    one that has not started yet never takes effect: it is withdrawn with no end date,
    which `BillingTransfer.objects.binding()` leaves out. An `end_date` must be a month's
    last day, not before the start, not in the past and not after the transfer's end.
    """
    today = today or timezone.localdate()
    locked = _locked(transfer)
    _require_status(locked, TransferStatus.ACCEPTED, "withdrawn")
    if locked.end_date is not None and locked.end_date < today:
        raise ApplicationError(
            f"This transfer ended on {locked.end_date}; there is nothing to withdraw.",
            code="transfer_ended",
        )
    before = snapshot(locked)
    locked.end_date = withdrawal_end(locked, end_date, today)
    locked.status = TransferStatus.WITHDRAWN
    _save_step(actor=actor, transfer=locked, before=before, step="withdraw")
    transfer_effects_queue(locked)
    return locked
