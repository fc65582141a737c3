"""Billing transfers: cycles, chains (who pays on a day) and withdrawing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from billing.models import Account, BillingTransfer, TransferStatus
from billing.selectors import billing_payer_of_record
from billing.services import (
    billing_transfer_accept,
    billing_transfer_decline,
    billing_transfer_withdraw,
    is_active_on,
)
from portal.users.models import User
from tests.billing.helpers import audit_values, refused
from tests.billing.transfer_setup import (
    APR,
    END_JUN,
    END_MAY,
    JUL,
    JUN,
    MAY,
    TODAY,
    assert_nothing_changed,
    transfer_entries,
)

pytestmark = pytest.mark.usefixtures("tenant_a")


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
