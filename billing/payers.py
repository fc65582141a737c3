"""Payers of record: who pays each month's bill once billing transfers are in force.

A transfer covers whole months, so the payer of record is a function of the payer and the
month: follow the transfers in force on the month's 1st from the payer upstream (A → B →
C: C pays for A, B and C). Each loaded month of a payer (`LoadedPeriod`) keeps its payer
of record and the chain that led there; the explorer, the invoices and the reconciliation
read them from there. They are set when a bill is published and refreshed when a transfer
is accepted or withdrawn (`billing.tasks.transfer_effects`).

A month's cost of an account is counted from one bill: a bill that carries accounts which
another loaded bill of the same payer of record carries for the month (the source's pro
forma bill and the destination's billable one) is refused at ingest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

from billing.ingest.reconcile import IngestCheckError
from billing.models import Account, BillingTransfer, LoadedPeriod

MAX_LISTED = 5


@dataclass(frozen=True)
class Link:
    """One binding transfer, by account ids."""

    source: str
    destination: str
    start: date
    end: date | None

    def in_force(self, month: date) -> bool:
        return self.start <= month and (self.end is None or month <= self.end)


def _links() -> list[Link]:
    rows = BillingTransfer.objects.binding().values_list(
        "source__account_id", "destination__account_id", "start_date", "end_date"
    )
    return [Link(*row) for row in rows]


class PayerChains:
    """Resolves payers of record for any months from the transfers read once."""

    def __init__(self, links: list[Link] | None = None) -> None:
        self.links = _links() if links is None else links
        self._upstream: dict[date, dict[str, str]] = {}

    def upstream(self, month: date) -> dict[str, str]:
        """Source payer -> destination payer, of the transfers in force in `month`."""
        month = month.replace(day=1)
        if month not in self._upstream:
            self._upstream[month] = {
                link.source: link.destination for link in self.links if link.in_force(month)
            }
        return self._upstream[month]

    def chain(self, payer: str, month: date) -> list[str]:
        """`payer` and every payer upstream of it in `month`; the last is the payer of record."""
        upstream = self.upstream(month)
        chain = [payer]
        while chain[-1] in upstream and upstream[chain[-1]] not in chain:
            chain.append(upstream[chain[-1]])
        return chain

    def payer_of_record(self, payer: str, month: date) -> str:
        return self.chain(payer, month)[-1]


def refresh_payers_of_record(periods: Iterable[date] | None = None) -> list[LoadedPeriod]:
    """Set every loaded month's payer of record (of `periods`, if given); the changed ones."""
    chains = PayerChains()
    loaded = LoadedPeriod.objects.all()
    if periods is not None:
        loaded = loaded.filter(billing_period_start__in=list(periods))
    changed: list[LoadedPeriod] = []
    for row in loaded.order_by("billing_period_start", "billing_account_id"):
        chain = chains.chain(row.billing_account_id, row.billing_period_start)
        if row.payer_of_record != chain[-1] or row.payer_chain != chain:
            row.payer_of_record, row.payer_chain = chain[-1], chain
            changed.append(row)
    LoadedPeriod.objects.bulk_update(changed, ["payer_of_record", "payer_chain"])
    return changed


def payers_of_record(month: date) -> dict[str, str]:
    """Bill payer -> payer of record, for the month's loaded bills."""
    rows = LoadedPeriod.objects.filter(billing_period_start=month.replace(day=1))
    return dict(rows.values_list("billing_account_id", "payer_of_record"))


def payer_names(account_ids: Iterable[str]) -> dict[str, str]:
    """Account id -> how pages name it ("name (id)", or the id of an unknown account)."""
    ids = set(account_ids)
    named = {a.account_id: str(a) for a in Account.objects.filter(account_id__in=ids)}
    return {account_id: named.get(account_id, account_id) for account_id in ids}


def months_moved_by(transfer: BillingTransfer) -> list[dict[str, Any]]:
    """The loaded bills whose payer of record this transfer changes: [{month, bill,
    payer_of_record}] with payers named, oldest first."""
    source, destination = transfer.source.account_id, transfer.destination.account_id
    rows = LoadedPeriod.objects.filter(billing_period_start__gte=transfer.start_date)
    if transfer.end_date is not None:
        rows = rows.filter(billing_period_start__lte=transfer.end_date)
    moved = [
        row
        for row in rows.order_by("billing_period_start", "billing_account_id")
        if any(
            pair == (source, destination)
            for pair in zip(row.payer_chain, row.payer_chain[1:], strict=False)
        )
    ]
    names = payer_names({p for row in moved for p in (row.billing_account_id, row.payer_of_record)})
    return [
        {
            "month": row.billing_period_start,
            "bill": names[row.billing_account_id],
            "payer_of_record": names[row.payer_of_record],
        }
        for row in moved
    ]


def check_counted_once(month: date, payer: str, rollup_table: str, chains: PayerChains) -> None:
    """Refuse a payer's bill whose accounts another bill of its payer of record carries.

    `rollup_table` is the staged rollup of the bill being loaded. Only bills on the same
    chain of transfers are compared, so the common case (no transfer) reads no cost rows.
    """
    record = chains.payer_of_record(payer, month)
    others = [
        other
        for other in LoadedPeriod.objects.filter(billing_period_start=month)
        .exclude(billing_account_id=payer)
        .values_list("billing_account_id", flat=True)
        if chains.payer_of_record(other, month) == record
    ]
    if not others:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT o.billing_account_id, array_agg(DISTINCT o.sub_account_id ORDER BY
                   o.sub_account_id)
            FROM billing_cost_rollup AS o
            WHERE o.billing_period_start = %s AND o.billing_account_id = ANY(%s)
              AND o.sub_account_id IN (SELECT DISTINCT sub_account_id FROM {rollup_table})
            GROUP BY o.billing_account_id ORDER BY o.billing_account_id
            """,
            [month, others],
        )
        overlaps: list[tuple[str, list[str]]] = cursor.fetchall()
    if overlaps:
        raise IngestCheckError(_counted_twice(month, payer, record, overlaps))


def _counted_twice(month: date, payer: str, record: str, overlaps: list[tuple[str, Any]]) -> str:
    names = payer_names([payer, record, *(other for other, _ in overlaps)])
    other, accounts = overlaps[0]
    listed = ", ".join(accounts[:MAX_LISTED]) + (
        f" and {len(accounts) - MAX_LISTED} more" if len(accounts) > MAX_LISTED else ""
    )
    return (
        f"The {month:%Y-%m} bill of payer {names[payer]} carries accounts ({listed}) that the "
        f"bill of {names[other]} already holds for {month:%Y-%m}; both are paid by "
        f"{names[record]} (payer of record) through billing transfers, and a month's cost is "
        "counted once. Nothing of this bill was stored; load only one of the two bills for "
        "the month."
    )
