"""Billing transfers: the invitation state machine, its dates, and who pays on a day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billing.models import Account, BillingTransfer, TransferStatus
from billing.services import (
    account_create,
    billing_transfer_accept,
    billing_transfer_cancel,
    billing_transfer_decline,
    billing_transfer_invite,
    billing_transfer_withdraw,
)
from portal.audit.models import AuditEntry
from portal.users.models import User
from tests.billing.helpers import audit_values, refused
from tests.billing.transfer_setup import (
    APR,
    END_JUN,
    END_MAY,
    JUN,
    MAY,
    TODAY,
    assert_nothing_changed,
    transfer_entries,
)

pytestmark = pytest.mark.usefixtures("tenant_a")

# The happy paths


def test_the_destination_invites_and_the_source_accepts(
    admin_a: User, payers: dict[str, Account], invite: Callable[..., BillingTransfer]
) -> None:
    transfer = invite("AB", APR, END_JUN, note=" Q2 only ")

    assert transfer.status == TransferStatus.PENDING
    assert transfer.invited_by == admin_a
    assert transfer.note == "Q2 only"
    assert transfer.responded_at is None
    before, after = audit_values("billingtransfer.invite")
    assert (before, after["status"]) == ({}, "pending")

    accepted = billing_transfer_accept(actor=admin_a, transfer=transfer, today=TODAY)

    stored = BillingTransfer.objects.get(pk=transfer.pk)
    assert stored.status == accepted.status == TransferStatus.ACCEPTED
    assert stored.responded_at is not None
    before, after = audit_values("billingtransfer.accept")
    assert (before["status"], after["status"]) == ("pending", "accepted")
    assert AuditEntry.objects.get(action="billingtransfer.accept").actor == admin_a
    assert transfer_entries() == 2


@pytest.mark.parametrize(
    ("step", "status"),
    [
        (billing_transfer_decline, TransferStatus.DECLINED),
        (billing_transfer_cancel, TransferStatus.CANCELLED),
    ],
)
def test_a_pending_invitation_can_be_declined_or_cancelled(
    admin_a: User, invite: Callable[..., BillingTransfer], step: Any, status: str
) -> None:
    transfer = invite("AB", APR)

    step(actor=admin_a, transfer=transfer)

    stored = BillingTransfer.objects.get(pk=transfer.pk)
    assert stored.status == status
    assert stored.responded_at is not None
    before, after = audit_values(f"billingtransfer.{step.__name__.rsplit('_', 1)[1]}")
    assert (before["status"], after["status"]) == ("pending", status)


# Refused transitions


def _declined(admin_a: User, t: BillingTransfer) -> BillingTransfer:
    return billing_transfer_decline(actor=admin_a, transfer=t)


def _cancelled(admin_a: User, t: BillingTransfer) -> BillingTransfer:
    return billing_transfer_cancel(actor=admin_a, transfer=t)


def _accepted(admin_a: User, t: BillingTransfer) -> BillingTransfer:
    return billing_transfer_accept(actor=admin_a, transfer=t, today=TODAY)


def _withdrawn(admin_a: User, t: BillingTransfer) -> BillingTransfer:
    return billing_transfer_withdraw(actor=admin_a, transfer=_accepted(admin_a, t), today=TODAY)


def _pending(admin_a: User, t: BillingTransfer) -> BillingTransfer:
    return t


def _accept(admin_a: User, t: BillingTransfer) -> Any:
    return billing_transfer_accept(actor=admin_a, transfer=t, today=TODAY)


def _decline(admin_a: User, t: BillingTransfer) -> Any:
    return billing_transfer_decline(actor=admin_a, transfer=t)


def _cancel(admin_a: User, t: BillingTransfer) -> Any:
    return billing_transfer_cancel(actor=admin_a, transfer=t)


def _withdraw(admin_a: User, t: BillingTransfer) -> Any:
    return billing_transfer_withdraw(actor=admin_a, transfer=t, today=TODAY)


@pytest.mark.parametrize(
    ("state", "step", "code"),
    [
        (_declined, _accept, "transfer_not_pending"),
        (_cancelled, _accept, "transfer_not_pending"),
        (_accepted, _accept, "transfer_not_pending"),
        (_withdrawn, _accept, "transfer_not_pending"),
        (_declined, _decline, "transfer_not_pending"),
        (_accepted, _decline, "transfer_not_pending"),
        (_cancelled, _cancel, "transfer_not_pending"),
        (_declined, _cancel, "transfer_not_pending"),
        (_accepted, _cancel, "transfer_not_pending"),
        (_withdrawn, _cancel, "transfer_not_pending"),
        (_pending, _withdraw, "transfer_not_accepted"),
        (_declined, _withdraw, "transfer_not_accepted"),
        (_cancelled, _withdraw, "transfer_not_accepted"),
        (_withdrawn, _withdraw, "transfer_not_accepted"),
    ],
)
def test_a_step_the_state_does_not_allow_is_refused_and_changes_nothing(
    admin_a: User, invite: Callable[..., BillingTransfer], state: Any, step: Any, code: str
) -> None:
    transfer = state(admin_a, invite("AB", APR))
    entries = transfer_entries()

    with refused(code) as error:
        step(admin_a, transfer)

    assert f"This transfer is {transfer.status}" in error.value.message
    assert_nothing_changed(transfer, entries)


def test_cancelling_an_accepted_transfer_points_to_withdrawing(
    admin_a: User, accepted: Callable[..., BillingTransfer]
) -> None:
    transfer = accepted("AB", APR)

    with refused("transfer_not_pending") as error:
        billing_transfer_cancel(actor=admin_a, transfer=transfer)

    assert "Withdraw it instead" in error.value.message


# Dates


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2025, 4, 2), None, "invalid_start_date"),
        (APR, date(2025, 6, 29), "invalid_end_date"),
        (JUN, END_MAY, "end_before_start"),
        (date(2025, 3, 1), None, "start_in_past"),
        (date(2025, 1, 1), None, "start_in_past"),
    ],
)
def test_an_invitation_with_bad_dates_is_refused(
    invite: Callable[..., BillingTransfer], start: date, end: date | None, code: str
) -> None:
    with refused(code):
        invite("AB", start, end)

    assert not BillingTransfer.objects.exists()
    assert transfer_entries() == 0


def test_an_invitation_that_could_no_longer_be_accepted_is_refused(
    invite: Callable[..., BillingTransfer],
) -> None:
    with refused("start_in_past"):
        invite("AB", APR, today=APR)
    with refused("start_too_soon") as error:
        invite("AB", APR, today=date(2025, 3, 31))

    assert "at least a day before" in error.value.message
    assert invite("AB", APR, today=date(2025, 3, 30)).status == TransferStatus.PENDING


def test_an_invitation_must_be_accepted_at_least_a_day_before_the_start(
    admin_a: User, invite: Callable[..., BillingTransfer]
) -> None:
    late = invite("AB", APR)
    entries = transfer_entries()

    for day in (date(2025, 3, 31), APR, date(2025, 4, 15)):
        with refused("transfer_expired"):
            billing_transfer_accept(actor=admin_a, transfer=late, today=day)

    assert_nothing_changed(late, entries)
    in_time = billing_transfer_accept(actor=admin_a, transfer=late, today=date(2025, 3, 30))
    assert in_time.status == TransferStatus.ACCEPTED


def test_an_expired_invitation_does_not_block_a_new_one(
    invite: Callable[..., BillingTransfer],
) -> None:
    invite("AB", APR)

    with refused("duplicate_invite"):
        invite("AB", MAY)
    again = invite("AB", MAY, today=date(2025, 4, 2))

    assert again.start_date == MAY


# Who may transfer to whom


def test_a_payer_cannot_transfer_to_itself(invite: Callable[..., BillingTransfer]) -> None:
    with refused("transfer_to_itself"):
        invite("AA", APR)

    assert not BillingTransfer.objects.exists()


def test_only_payer_accounts_take_part(admin_a: User, payers: dict[str, Account]) -> None:
    member = account_create(
        actor=admin_a, account_id="999999999999", organization=payers["A"].organization
    )

    with refused("not_a_payer") as error:
        billing_transfer_invite(
            actor=admin_a, source=member, destination=payers["B"], start_date=APR, today=TODAY
        )
    with refused("not_a_payer"):
        billing_transfer_invite(
            actor=admin_a, source=payers["B"], destination=member, start_date=APR, today=TODAY
        )

    assert error.value.field == "source"
    assert not BillingTransfer.objects.exists()


def test_a_second_pending_invitation_for_the_same_pair_is_refused(
    admin_a: User, invite: Callable[..., BillingTransfer]
) -> None:
    first = invite("AB", APR)

    with refused("duplicate_invite"):
        invite("AB", MAY)
    billing_transfer_cancel(actor=admin_a, transfer=first)

    assert invite("AB", MAY).status == TransferStatus.PENDING


def test_a_payer_has_one_destination_at_a_time(
    accepted: Callable[..., BillingTransfer], invite: Callable[..., BillingTransfer]
) -> None:
    accepted("AB", APR, END_MAY)

    with refused("source_has_destination") as error:
        invite("AC", MAY)
    with refused("source_has_destination"):
        invite("AC", date(2025, 2, 1), today=date(2025, 1, 1))

    assert "one destination at a time" in error.value.message
    assert invite("AC", JUN).status == TransferStatus.PENDING


def test_the_one_destination_rule_is_checked_again_on_accepting(
    admin_a: User, invite: Callable[..., BillingTransfer]
) -> None:
    to_b = invite("AB", APR)
    to_c = invite("AC", MAY)
    billing_transfer_accept(actor=admin_a, transfer=to_b, today=TODAY)
    entries = transfer_entries()

    with refused("source_has_destination"):
        billing_transfer_accept(actor=admin_a, transfer=to_c, today=TODAY)

    assert_nothing_changed(to_c, entries)
