"""The checks every ingest passes before anything is published: sums match to the cent,
and something is stored; and the one line that says how much money was rejected."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, localcontext

from billing.ingest.contract import EXACT_DIGITS, IssueKind
from billing.ingest.findings import Findings
from billing.ingest.staging import PeriodLoad
from billing.models import IngestJob, IngestPeriodSum


class IngestCheckError(Exception):
    """The stored data would not match the source; nothing is published."""


def check_sums(loads: list[PeriodLoad]) -> None:
    """Source = stored + rejected, per period and payer, for rows and both cost columns."""
    for load in loads:
        period, payer = load.key
        for label, source, stored, rejected in (
            ("rows", load.source.rows, load.stored.rows, load.rejected.rows),
            (
                "BilledCost",
                load.source.billed_cost,
                load.stored.billed_cost,
                load.rejected.billed_cost,
            ),
            (
                "EffectiveCost",
                load.source.effective_cost,
                load.stored.effective_cost,
                load.rejected.effective_cost,
            ),
        ):
            with localcontext(prec=EXACT_DIGITS):
                matches = source == stored + rejected
            if not matches:
                raise IngestCheckError(
                    f"Billing period {period[:7]} of payer {payer}: the files' {label} is "
                    f"{source}, but {stored} was stored and {rejected} rejected."
                )


def require_stored_rows(job: IngestJob, loads: list[PeriodLoad], findings: Findings) -> None:
    """Fail an ingest that would store no row at all, keeping its sums (what the files
    hold and what was rejected) for its page; the stored months stay as they are."""
    if any(load.stored.rows for load in loads):
        return
    job.rows_rejected = job.rows_read
    period_sums_record(job=job, loads=loads)
    if not job.rows_read:
        raise IngestCheckError("No row could be stored: the files hold no rows.")
    raise IngestCheckError(
        f"No row could be stored: {job.rows_read:,} of {job.rows_read:,} rows were rejected; "
        f"most common reason: {_most_common_rejection(findings)}."
    )


def _most_common_rejection(findings: Findings) -> str:
    rejected = [
        (count, key) for key, count in findings.counts.items() if key[3] == str(IssueKind.REJECTED)
    ]
    if not rejected:
        return "none was reported"
    count, (file, _column, message, _kind) = max(rejected, key=lambda item: item[0])
    return f"{message} ({count:,} rows of {file})"


def period_sums_record(*, job: IngestJob, loads: Iterable[PeriodLoad]) -> None:
    """Record the sums of periods and payers that nothing was stored for (publishing
    records those it stores), so their rejected money stays visible."""
    for load in loads:
        period, payer = date.fromisoformat(load.key[0]), load.key[1]
        IngestPeriodSum.objects.update_or_create(
            job=job,
            billing_period_start=period,
            billing_account_id=payer,
            defaults={
                "source_rows": load.source.rows,
                "stored_rows": load.stored.rows,
                "source_billed_cost": load.source.billed_cost,
                "stored_billed_cost": load.stored.billed_cost,
                "rejected_billed_cost": load.rejected.billed_cost,
                "source_effective_cost": load.source.effective_cost,
                "stored_effective_cost": load.stored.effective_cost,
                "rejected_effective_cost": load.rejected.effective_cost,
            },
        )


def rejected_money(job: IngestJob) -> str:
    """One line: how many rows the ingest rejected and what BilledCost they held."""
    if not job.rows_rejected:
        return f"No row was rejected ({job.rows_read:,} read)."
    sums = list(job.period_sums.all())
    with localcontext(prec=EXACT_DIGITS):
        rejected = sum((row.rejected_billed_cost for row in sums), Decimal(0))
        source = sum((row.source_billed_cost for row in sums), Decimal(0))
        share = f" ({rejected / source:.1%} of the files' {amount(source)})" if source else ""
    line = (
        f"Rejected {job.rows_rejected:,} of {job.rows_read:,} rows, worth {amount(rejected)} "
        f"in BilledCost{share}"
    )
    placed = sum(row.source_rows - row.stored_rows for row in sums)
    unplaced = job.rows_rejected - placed
    if unplaced > 0:
        line += f"; {unplaced:,} of them without a readable billing period or payer, so in no sum"
    return line + "."


def amount(value: Decimal) -> str:
    """Fixed point with thousands grouped and no trailing zeros: 1,234.5."""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
