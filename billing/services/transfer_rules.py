"""The rules of billing transfers, as plain checks: dates, one destination, no cycles.

`billing.services.transfers` runs them inside its steps; each raises ApplicationError.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.db.models import Q

from billing.models import Account, BillingTransfer, TransferStatus
from portal.core.errors import ApplicationError

ONE_DAY = timedelta(days=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_binding(transfer: BillingTransfer) -> bool:
    """Whether it moves billing at all (as `BillingTransfer.objects.binding()`)."""
    if transfer.status == TransferStatus.WITHDRAWN:
        return transfer.end_date is not None
    return transfer.status == TransferStatus.ACCEPTED


def is_active_on(transfer: BillingTransfer, day: date) -> bool:
    """Whether the destination pays the source's bill on `day`."""
    return (
        is_binding(transfer)
        and transfer.start_date <= day
        and (transfer.end_date is None or day <= transfer.end_date)
    )


def check_invitation_dates(start: date, end: date | None, today: date) -> None:
    """Whole months, starting after today and early enough to be accepted in time."""
    if start.day != 1:
        raise ApplicationError(
            f"A transfer starts on the 1st of a month; {start} is not.",
            code="invalid_start_date",
            field="start_date",
        )
    if start <= today:
        raise ApplicationError(
            f"A transfer cannot start in the past: {start} is not after today ({today}).",
            code="start_in_past",
            field="start_date",
        )
    if start - ONE_DAY <= today:
        raise ApplicationError(
            f"A transfer must be accepted at least a day before it starts, so one starting on "
            f"{start} could no longer be accepted; pick a later month.",
            code="start_too_soon",
            field="start_date",
        )
    if end is not None and end != month_end(end):
        raise ApplicationError(
            f"A transfer ends on the last day of a month; {end} is not.",
            code="invalid_end_date",
            field="end_date",
        )
    if end is not None and end <= start:
        raise ApplicationError(
            f"The end ({end}) must come after the start ({start}).",
            code="end_before_start",
            field="end_date",
        )


def _binding_overlapping(
    start: date, end: date | None, *, exclude: int | None = None
) -> list[BillingTransfer]:
    rows = BillingTransfer.objects.binding().filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start)
    )
    if end is not None:
        rows = rows.filter(start_date__lte=end)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return list(rows.select_related("source", "destination"))


def _until(end: date | None) -> str:
    return f"until {end}" if end else "with no end"


def _refuse_second_destination(source: Account, binding: list[BillingTransfer]) -> None:
    clash = next((t for t in binding if t.source_id == source.pk), None)
    if clash is not None:
        raise ApplicationError(
            f"{source} already transfers its billing to {clash.destination} from "
            f"{clash.start_date} {_until(clash.end_date)}; a payer has one destination at a time.",
            code="source_has_destination",
            field="source",
        )


def _refuse_cycle(
    source: Account,
    destination: Account,
    start: date,
    end: date | None,
    binding: list[BillingTransfer],
) -> None:
    """Refuse if, on some day of the new period, billing would go round in a circle.

    The transfers in force change only on their start days and the days after their ends,
    so checking those days (and the new start) covers the whole period.
    """
    days = {start} | {t.start_date for t in binding}
    days |= {t.end_date + ONE_DAY for t in binding if t.end_date is not None}
    accounts = {t.destination_id: t.destination for t in binding}
    for day in sorted(d for d in days if start <= d and (end is None or d <= end)):
        upstream = {t.source_id: t.destination_id for t in binding if is_active_on(t, day)}
        chain = [source, destination]
        node = destination.pk
        while node in upstream and len(chain) <= len(upstream) + 2:
            node = upstream[node]
            chain.append(accounts[node])
            if node == source.pk:
                path = " → ".join(str(a) for a in chain)
                raise ApplicationError(
                    f"From {day} billing would go round in a circle: {path}. A payer cannot "
                    "end up paying for itself.",
                    code="transfer_cycle",
                )


def check_one_destination_and_no_cycle(
    source: Account, destination: Account, start: date, end: date | None, exclude: int | None
) -> None:
    """Checked against the binding transfers that overlap the period (`exclude`: itself)."""
    binding = _binding_overlapping(start, end, exclude=exclude)
    _refuse_second_destination(source, binding)
    _refuse_cycle(source, destination, start, end, binding)


def withdrawal_end(transfer: BillingTransfer, end_date: date | None, today: date) -> date | None:
    """The end a withdrawal gives `transfer` (None: it never takes effect)."""
    if end_date is None:
        return month_end(today) if transfer.start_date <= today else None
    if end_date != month_end(end_date):
        raise ApplicationError(
            f"A transfer ends on the last day of a month; {end_date} is not.",
            code="invalid_end_date",
            field="end_date",
        )
    if end_date < transfer.start_date:
        raise ApplicationError(
            f"The transfer starts on {transfer.start_date}; it cannot end before ({end_date}).",
            code="end_before_start",
            field="end_date",
        )
    if end_date < today:
        raise ApplicationError(
            f"{end_date} is in the past; a transfer can end this month at the earliest.",
            code="end_in_past",
            field="end_date",
        )
    if transfer.end_date is not None and end_date > transfer.end_date:
        raise ApplicationError(
            f"The transfer already ends on {transfer.end_date}; withdrawing can only end it "
            "sooner.",
            code="end_after_current_end",
            field="end_date",
        )
    return end_date
