"""Billing transfers: the invitation state machine, its dates, and who pays on a day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billing.models import Account, BillingTransfer, TransferStatus
from billing.selectors import billing_payer_of_record
from billing.services import (
    account_create,
    billing_transfer_accept,
    billing_transfer_cancel,
    billing_transfer_decline,
    billing_transfer_invite,
    billing_transfer_withdraw,
    is_active_on,
    organization_create,
)
from portal.audit.models import AuditEntry
from portal.audit.services import snapshot
from portal.users.models import User
from tests.billing.helpers import audit_values, refused

pytestmark = pytest.mark.usefixtures("tenant_a")

TODAY = date(2025, 3, 10)
APR, MAY, JUN, JUL = date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)
END_MAY, END_JUN = date(2025, 5, 31), date(2025, 6, 30)


def transfer_entries() -> int:
    return AuditEntry.objects.filter(object_type="billing.BillingTransfer").count()


@pytest.fixture
def payers(admin_a: User) -> dict[str, Account]:
    """Four payers A, B, C and D, each managing its own organization."""
    found = {}
    for n, letter in enumerate("ABCD", start=1):
        org = organization_create(
            actor=admin_a, name=f"Org {letter}", management_account_id=str(n) * 12
        )
        assert org.management_account is not None
        found[letter] = org.management_account
    return found


@pytest.fixture
def invite(admin_a: User, payers: dict[str, Account]) -> Callable[..., BillingTransfer]:
    """invite("AB", APR) → a pending transfer of A's billing to B."""

    def make(pair: str, start: date, end: date | None = None, **kwargs: Any) -> BillingTransfer:
        kwargs.setdefault("today", TODAY)
        return billing_transfer_invite(
            actor=admin_a,
            source=payers[pair[0]],
            destination=payers[pair[1]],
            start_date=start,
            end_date=end,
            **kwargs,
        )

    return make


@pytest.fixture
def accepted(
    admin_a: User, invite: Callable[..., BillingTransfer]
) -> Callable[..., BillingTransfer]:
    """accepted("AB", APR) → an accepted transfer of A's billing to B."""

    def make(pair: str, start: date, end: date | None = None) -> BillingTransfer:
        return billing_transfer_accept(
            actor=admin_a, transfer=invite(pair, start, end), today=TODAY
        )

    return make


def assert_nothing_changed(transfer: BillingTransfer, entries: int) -> None:
    assert snapshot(BillingTransfer.objects.get(pk=transfer.pk)) == snapshot(transfer)
    assert transfer_entries() == entries


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


# Cycles and chains


def test_a_transfer_back_while_the_first_is_in_force_is_a_cycle(
    accepted: Callable[..., BillingTransfer], invite: Callable[..., BillingTransfer]
) -> None:
    accepted("AB", APR)

    with refused("transfer_cycle") as error:
        invite("BA", JUN)

    assert "go round in a circle" in error.value.message
    assert BillingTransfer.objects.count() == 1


def test_a_chain_is_allowed_but_closing_it_into_a_circle_is_not(
    accepted: Callable[..., BillingTransfer], invite: Callable[..., BillingTransfer]
) -> None:
    accepted("AB", APR)
    accepted("BC", MAY)

    with refused("transfer_cycle") as error:
        invite("CA", JUN)

    assert error.value.message.startswith("From 2025-06-01")
    assert error.value.message.count("→") == 3


def test_a_transfer_back_after_the_first_has_ended_is_allowed(
    accepted: Callable[..., BillingTransfer], invite: Callable[..., BillingTransfer]
) -> None:
    accepted("AB", APR, END_JUN)

    back = invite("BA", JUL)

    assert back.status == TransferStatus.PENDING


def test_transfers_that_never_run_at_the_same_time_make_no_cycle(
    accepted: Callable[..., BillingTransfer], invite: Callable[..., BillingTransfer]
) -> None:
    # A→B in April and May, B→C from July: C→A from April never closes a circle.
    accepted("AB", APR, END_MAY)
    accepted("BC", JUL)

    assert invite("CA", APR).status == TransferStatus.PENDING


def test_a_cycle_between_two_pending_invitations_is_refused_on_accepting(
    admin_a: User, invite: Callable[..., BillingTransfer]
) -> None:
    there = invite("AB", APR)
    back = invite("BA", APR)
    billing_transfer_accept(actor=admin_a, transfer=there, today=TODAY)
    entries = transfer_entries()

    with refused("transfer_cycle"):
        billing_transfer_accept(actor=admin_a, transfer=back, today=TODAY)

    assert_nothing_changed(back, entries)


def test_the_upstream_payer_pays_for_the_whole_chain(
    payers: dict[str, Account], accepted: Callable[..., BillingTransfer]
) -> None:
    accepted("AB", APR)
    accepted("BC", MAY, END_JUN)

    def payer_of(letter: str, day: date) -> str:
        found = billing_payer_of_record(payer=payers[letter], day=day)
        return next(k for k, v in payers.items() if v == found)

    assert payer_of("A", date(2025, 3, 31)) == "A"
    assert payer_of("A", APR) == "B"
    assert payer_of("A", MAY) == "C"
    assert payer_of("B", END_JUN) == "C"
    assert payer_of("A", JUL) == "B"
    assert payer_of("C", MAY) == "C"
    assert payer_of("D", MAY) == "D"


def test_pending_and_declined_transfers_move_no_billing(
    admin_a: User, payers: dict[str, Account], invite: Callable[..., BillingTransfer]
) -> None:
    pending = invite("AB", APR)
    declined = billing_transfer_decline(actor=admin_a, transfer=invite("CB", APR))

    assert not is_active_on(pending, MAY)
    assert not is_active_on(declined, MAY)
    assert billing_payer_of_record(payer=payers["A"], day=MAY) == payers["A"]


# Withdrawing


def test_withdrawing_a_running_transfer_ends_it_with_the_current_month(
    admin_a: User, payers: dict[str, Account], accepted: Callable[..., BillingTransfer]
) -> None:
    transfer = accepted("AB", APR)

    withdrawn = billing_transfer_withdraw(actor=admin_a, transfer=transfer, today=date(2025, 5, 14))

    stored = BillingTransfer.objects.get(pk=transfer.pk)
    assert (stored.status, stored.end_date) == (TransferStatus.WITHDRAWN, END_MAY)
    assert withdrawn.end_date == END_MAY
    assert is_active_on(stored, END_MAY)
    assert not is_active_on(stored, JUN)
    assert billing_payer_of_record(payer=payers["A"], day=END_MAY) == payers["B"]
    assert billing_payer_of_record(payer=payers["A"], day=JUN) == payers["A"]
    before, after = audit_values("billingtransfer.withdraw")
    assert (before["status"], after["status"]) == ("accepted", "withdrawn")
    assert (before["end_date"], after["end_date"]) == (None, "2025-05-31")


def test_withdrawing_before_the_start_means_it_never_takes_effect(
    admin_a: User, payers: dict[str, Account], accepted: Callable[..., BillingTransfer]
) -> None:
    transfer = accepted("AB", APR, END_JUN)

    billing_transfer_withdraw(actor=admin_a, transfer=transfer, today=date(2025, 3, 20))

    stored = BillingTransfer.objects.get(pk=transfer.pk)
    assert (stored.status, stored.end_date) == (TransferStatus.WITHDRAWN, None)
    assert not is_active_on(stored, APR)
    assert billing_payer_of_record(payer=payers["A"], day=APR) == payers["A"]
    assert stored not in BillingTransfer.objects.binding()


def test_withdrawing_at_a_chosen_month_end(
    admin_a: User, accepted: Callable[..., BillingTransfer]
) -> None:
    transfer = accepted("AB", APR)

    billing_transfer_withdraw(actor=admin_a, transfer=transfer, end_date=END_JUN, today=TODAY)

    assert BillingTransfer.objects.get(pk=transfer.pk).end_date == END_JUN


@pytest.mark.parametrize(
    ("end", "today", "code"),
    [
        (date(2025, 6, 15), TODAY, "invalid_end_date"),
        (date(2025, 3, 31), TODAY, "end_before_start"),
        (END_MAY, date(2025, 6, 3), "end_in_past"),
        (date(2025, 7, 31), TODAY, "end_after_current_end"),
    ],
)
def test_a_withdrawal_with_a_bad_end_is_refused(
    admin_a: User, accepted: Callable[..., BillingTransfer], end: date, today: date, code: str
) -> None:
    transfer = accepted("AB", APR, END_JUN)
    entries = transfer_entries()

    with refused(code):
        billing_transfer_withdraw(actor=admin_a, transfer=transfer, end_date=end, today=today)

    assert_nothing_changed(transfer, entries)


def test_a_transfer_that_has_ended_cannot_be_withdrawn(
    admin_a: User, accepted: Callable[..., BillingTransfer]
) -> None:
    transfer = accepted("AB", APR, END_MAY)
    entries = transfer_entries()

    with refused("transfer_ended"):
        billing_transfer_withdraw(actor=admin_a, transfer=transfer, today=date(2025, 6, 3))

    assert_nothing_changed(transfer, entries)


def test_after_a_withdrawal_the_source_may_transfer_elsewhere(
    admin_a: User, accepted: Callable[..., BillingTransfer], invite: Callable[..., BillingTransfer]
) -> None:
    transfer = accepted("AB", APR)
    billing_transfer_withdraw(actor=admin_a, transfer=transfer, end_date=END_MAY, today=TODAY)

    with refused("source_has_destination"):
        invite("AC", MAY)
    assert invite("AC", JUN).status == TransferStatus.PENDING
