"""Fixtures of the billing tests: the Acme organization, payers A to D and billing transfers
between them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billing.models import Account, BillingTransfer, Organization
from billing.services import billing_transfer_accept, billing_transfer_invite, organization_create
from portal.users.models import User
from tests.billing.transfer_setup import TODAY


@pytest.fixture
def org(admin_a: User) -> Organization:
    """The organization Acme, paid for by the account 111111111111."""
    return organization_create(
        actor=admin_a,
        name="Acme",
        management_account_id="111111111111",
        management_account_name="Acme payer",
    )


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
