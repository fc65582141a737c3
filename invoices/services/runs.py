"""Invoice runs: queue one for a period, and carry it out (in a Celery worker).

A run drafts every unit's invoice in one transaction, then, if asked, issues each draft
in its own (numbers are taken in unit order). Its progress is written through a side
connection so the run page sees it while the drafting transaction is open. Running a
period again replaces its drafts; issued invoices stay as they are, so a retried or
redelivered run is safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from billing.selectors import loaded_month
from invoices.models import Invoice, InvoiceRun, InvoiceRunStatus, InvoiceStatus
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.audit.services import acting_user, audit_record
from portal.core.connections import claimed, side_connection
from portal.core.errors import ApplicationError
from portal.core.liveness import STOPPED_RUN_MESSAGE, run_fail, work_fail_stopped

PROGRESS_EVERY_SECONDS = 0.5
CLAIM_KIND = "invoices"


@transaction.atomic
def invoice_run_request(
    *, actor: Any, period: date, issue: bool = False, enqueue: bool = True, actor_name: str = ""
) -> InvoiceRun:
    """Queue a run for the month of `period`; a worker carries it out after commit.

    With `enqueue=False` the caller carries it out itself (`invoice_run_execute`).
    """
    from invoices.tasks import invoice_run

    month = loaded_month(period, first="load its bill and allocate it")
    run = InvoiceRun.objects.create(
        period=month,
        issue=issue,
        created_by=acting_user(actor),
    )
    audit_record(
        actor=actor,
        action="invoicerun.request",
        instance=run,
        after={"period": run.period.isoformat(), "issue": issue, "queued": enqueue},
        actor_name=actor_name,
    )
    if enqueue:
        schema = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(lambda: invoice_run.delay(schema, run.pk))
    return run


class _Progress:
    """Writes a run's counters at most every half second, beside the main transaction."""

    def __init__(self, run: InvoiceRun) -> None:
        self.run = run
        self.last = 0.0

    def __call__(self, done: int, *, force: bool = False, **fields: Any) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        values = {"units_done": done, **fields}
        assignments = ", ".join(f"{name} = %s" for name in values)
        with side_connection(connection.schema_name) as side:  # type: ignore[attr-defined]
            side.execute(
                f"UPDATE {InvoiceRun._meta.db_table} SET {assignments} WHERE id = %s",
                [*values.values(), self.run.pk],
            )


def invoice_run_execute(*, actor: Any, run: InvoiceRun) -> InvoiceRun:
    """Draft (and issue) the run's period; failures are recorded on the run, then raised.

    A run another process carries out meanwhile (a second delivery) is left to it.
    """
    if run.status == InvoiceRunStatus.SUCCEEDED:
        return run
    invoice_runs_fail_stopped(keep=run.pk)
    # Held while it runs, so others can tell when its process is gone.
    with claimed(CLAIM_KIND, run.pk) as mine:
        if not mine:
            run.refresh_from_db()
            return run
        return _claimed_execute(actor=actor, run=run)


def invoice_runs_fail_stopped(*, keep: int | None = None) -> list[int]:
    """Mark failed every running invoice run of this schema whose process is gone; their
    ids. `keep` is a run the caller is about to carry out itself."""
    return work_fail_stopped(
        kind=CLAIM_KIND,
        running=InvoiceRun.objects.filter(status=InvoiceRunStatus.RUNNING),
        finish=_fail_stopped_run,
        audited=("status", "notes"),
        keep=keep,
    )


def _fail_stopped_run(side: psycopg.Connection[Any], run_id: int) -> bool:
    """Fail the run, saying what it left: drafting commits all drafts or none, and each
    invoice is issued in its own transaction."""
    row = side.execute(
        "SELECT count(*) FILTER (WHERE status = %s), count(*) FILTER (WHERE status <> %s) "
        f"FROM {Invoice._meta.db_table} WHERE run_id = %s",
        [InvoiceStatus.DRAFT, InvoiceStatus.DRAFT, run_id],
    ).fetchone()
    drafts, issued = row if row else (0, 0)
    notes = [STOPPED_RUN_MESSAGE]
    if drafts or issued:
        notes.append(
            f"It had made {drafts} draft(s) and issued {issued} invoice(s); they stay, and "
            "running the period again replaces the drafts only."
        )
    else:
        notes.append("It had made no drafts.")
    return run_fail(side, InvoiceRun, run_id, notes)


def _claimed_execute(*, actor: Any, run: InvoiceRun) -> InvoiceRun:
    progress = _Progress(run)
    run.started_at = timezone.now()
    run.status = InvoiceRunStatus.RUNNING
    run.units_done = 0
    run.save(update_fields=["started_at", "status", "units_done"])
    try:
        drafts, refusals = _draft(run, progress)
        refusals += _empty(drafts)
        issued = _issue(actor, run, drafts, progress) if run.issue else 0
    except Exception as exc:
        run.refresh_from_db()
        run.status = InvoiceRunStatus.FAILED
        run.notes = [exc.message if isinstance(exc, ApplicationError) else f"Failed: {exc}"]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "notes", "finished_at"])
        audit_record(
            actor=actor, action="invoicerun.fail", instance=run, after={"notes": run.notes}
        )
        raise
    run.refresh_from_db()
    run.status = InvoiceRunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.notes = [f"{len(drafts)} invoice(s) drafted, {issued} issued.", *refusals]
    run.units_done = run.units_total
    run.save(update_fields=["status", "finished_at", "notes", "units_done"])
    audit_record(
        actor=actor,
        action="invoicerun.execute",
        instance=run,
        after={"drafted": [i.pk for i in drafts], "issued": issued, "refused": refusals},
    )
    return run


def _draft(run: InvoiceRun, progress: Callable[..., None]) -> tuple[list[Invoice], list[str]]:
    from invoices.models import BillingUnit

    units = BillingUnit.objects.count()
    run.units_total = units * (2 if run.issue else 1)
    run.save(update_fields=["units_total"])
    return invoice_drafts_create(period=run.period, run=run, progress=progress)


def _empty(drafts: list[Invoice]) -> list[str]:
    return [
        f"{invoice.unit.name}: nothing was allocated to {invoice.unit.value!r} in "
        f"{invoice.period:%Y-%m}; its draft has no lines and is not issued."
        for invoice in drafts
        if not invoice.lines.exists()
    ]


def _issue(actor: Any, run: InvoiceRun, drafts: list[Invoice], progress: Any) -> int:
    """Issue the drafts in unit order; progress counts units drafted, then drafts issued."""
    start = run.units_total // 2
    run.units_total = start + len(drafts)
    progress(start, force=True, units_total=run.units_total)
    issued = 0
    for done, invoice in enumerate(drafts, start=1):
        if invoice.status == InvoiceStatus.DRAFT and invoice.lines.exists():
            invoice_issue(actor=actor, invoice=invoice)
            issued += 1
        progress(start + done)
    return issued
