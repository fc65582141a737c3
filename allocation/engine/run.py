"""Allocating a billing period's costs to a category's values: one set-based SQL pass.

The version in force is compiled into one `CASE` (and a parallel `CASE` giving the
matched rule's id); one statement groups the period's cost rollup (its line items summed
per day and combination of the columns rules read) by value, day, account, service, usage
type, pricing unit and rule into the run's rows, and one more writes them into its results
with the split rules applied, and one sums those per value and day for the cost
explorer (`AllocationSummary`). The new run replaces the results of the period's previous
run of the category in the same transaction, so readers see the old results or the new,
never a mix; the previous run is kept, marked replaced.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from allocation.engine.compiler import RuleCompiler
from allocation.engine.split_results import write_results
from allocation.models import (
    AllocationResult,
    AllocationRun,
    AllocationSummary,
    CostCategory,
    Rule,
    RuleSet,
    RunStatus,
    RunStep,
)
from allocation.rules import rule_label
from allocation.selectors import ruleset_for
from allocation.signals import run_succeeded
from portal.audit.services import acting_user, audit_record
from portal.core.connections import claimed, local_settings, side_connection
from portal.core.errors import ApplicationError
from portal.core.liveness import STOPPED_RUN_MESSAGE, run_fail, work_fail_stopped

SQL = (Path(__file__).resolve().parent.parent / "sql" / "allocate.sql").read_text()
SUMMARY_SQL = (Path(__file__).resolve().parent.parent / "sql" / "summary.sql").read_text()
PROVIDER = "AWS"
# For the statement allocating the month: its hash tables (a month's rollup rows gathered
# per combination of the columns the rules read) fit in memory instead of spilling to
# disk, and it groups them by hashing, not by sorting on a dozen text columns.
SETTINGS = {"work_mem": "256MB", "enable_sort": "off"}

CLAIM_KIND = "allocation"
STOPPED_MESSAGE = (
    f"{STOPPED_RUN_MESSAGE} Nothing of it was stored: the period's previous results stay in force."
)

logger = logging.getLogger(__name__)


def _month(period: date) -> date:
    return period.replace(day=1)


def allocation_run_now(*, actor: Any, category: CostCategory, period: date) -> AllocationRun:
    """Allocate the month of `period` for `category` here and now (no worker)."""
    run = AllocationRun.objects.create(
        category=category, period=_month(period), created_by=acting_user(actor)
    )
    return allocation_run_execute(actor=actor, run=run)


def allocation_run_execute(*, actor: Any, run: AllocationRun) -> AllocationRun:
    """Carry out a queued run: allocate its month, replacing the previous run's results.

    A run that fails leaves the previous results in place and is recorded as failed,
    with the error in its notes, before the error is raised again. A run that already
    succeeded (a redelivered task) is left as it is.
    """
    allocation_runs_fail_stopped(keep=run.pk)
    # Held while it runs, so others can tell when its process is gone.
    with claimed(CLAIM_KIND, run.pk) as mine:
        if not mine:  # another process carries it out
            run.refresh_from_db()
            return run
        return _claimed_execute(actor=actor, run=run)


def allocation_runs_fail_stopped(*, keep: int | None = None) -> list[int]:
    """Mark failed every running allocation of this schema whose process is gone; their
    ids. Its results were never committed, so the previous ones stay in force. `keep` is
    a run the caller is about to carry out itself."""
    return work_fail_stopped(
        kind=CLAIM_KIND,
        running=AllocationRun.objects.filter(status=RunStatus.RUNNING),
        finish=lambda side, pk: run_fail(side, AllocationRun, pk, [STOPPED_MESSAGE]),
        audited=("status", "notes"),
        keep=keep,
    )


def _claimed_execute(*, actor: Any, run: AllocationRun) -> AllocationRun:
    running = {
        "status": RunStatus.RUNNING,
        "step": RunStep.WAITING,
        "started_at": timezone.now(),
        "finished_at": None,
        "notes": [],
    }
    # Conditional, so a delivery that comes late never turns a succeeded run back.
    unfinished = AllocationRun.objects.filter(pk=run.pk).exclude(status=RunStatus.SUCCEEDED)
    if not unfinished.update(**running):
        run.refresh_from_db()
        return run
    for name, value in running.items():
        setattr(run, name, value)
    try:
        return _execute(actor=actor, run=run)
    except Exception as exc:
        logger.exception("allocation of %s for %s failed", run.category, run.period)
        run.status, run.finished_at = RunStatus.FAILED, timezone.now()
        run.notes = [exc.message if isinstance(exc, ApplicationError) else str(exc)]
        run.save(update_fields=["status", "step", "finished_at", "notes"])
        audit_record(actor=actor, action="allocationrun.fail", instance=run)
        raise


def _step(run: AllocationRun, step: RunStep) -> None:
    """Show the step under way, through a side connection: the run's own transaction
    commits only at its end. Best effort: a row this connection cannot see or lock (a
    run made in the caller's transaction) keeps its step."""
    run.step = step
    table = AllocationRun._meta.db_table
    try:
        with side_connection(connection.schema_name) as side:  # type: ignore[attr-defined]
            side.execute("SET lock_timeout = '1s'")
            side.execute(f"UPDATE {table} SET step = %s WHERE id = %s", [step, run.pk])
    except psycopg.errors.LockNotAvailable:
        logger.warning("allocation run %s: step %s not shown", run.pk, step.label)


@transaction.atomic
def _execute(*, actor: Any, run: AllocationRun) -> AllocationRun:
    category, period = run.category, run.period
    # One run of a category at a time: the next waits, then replaces this one's results.
    category = CostCategory.objects.select_for_update().get(pk=category.pk)
    if AllocationRun.objects.filter(pk=run.pk, status=RunStatus.SUCCEEDED).exists():
        run.refresh_from_db()
        return run  # carried out meanwhile by another delivery of the same task
    _step(run, RunStep.MATCHING)
    ruleset = ruleset_for(category=category, period=period)
    notes: list[str] = []
    if ruleset is None:
        notes.append(
            f"No version of {category.name} is in force for {period:%Y-%m}: every cost "
            f'went to "{category.fallback_value}".'
        )
    compiler = RuleCompiler(period)
    query = sql.SQL(SQL).format(
        value_case=compiler.value_case(category, ruleset),
        rule_case=compiler.rule_case(ruleset),
    )
    params = {**compiler.params, "period": period, "provider": PROVIDER}
    with connection.cursor() as cursor, local_settings(cursor, SETTINGS):
        cursor.execute(query, params)
    _step(run, RunStep.SPLITTING)
    splits = list(ruleset.splits.all()) if ruleset is not None else []
    notes += write_results(run, splits)
    with connection.cursor() as cursor:
        cursor.execute(SUMMARY_SQL, {"runs": [run.pk]})
    if ruleset is not None:
        notes += _idle_rules(run, ruleset)
    _step(run, RunStep.REPLACING)
    previous = _replace_previous(run)
    run.ruleset, run.notes = ruleset, notes
    run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
    run.full_clean()
    run.save(update_fields=["ruleset", "notes", "status", "step", "finished_at"])
    audit_record(
        actor=actor,
        action="allocationrun.execute",
        instance=run,
        after={
            "category": category.name,
            "period": period.isoformat(),
            "ruleset": ruleset.pk if ruleset else None,
            "replaced_runs": previous,
            "notes": run.notes,
        },
    )
    run_succeeded.send(sender=AllocationRun, run=run)
    return run


def _label(rule: Rule) -> str:
    data = {"kind": rule.kind, "value": rule.value, "inherit_from": rule.inherit_from}
    label = rule_label(rule.position, data)
    return label[0].upper() + label[1:]


def _idle_rules(run: AllocationRun, ruleset: RuleSet) -> list[str]:
    """A note for each rule that gave no cost in the run's period: a mistyped tag key or
    value, or an earlier rule that takes everything it would match, is easy to miss."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT rule_id FROM {AllocationResult._meta.db_table} "
            "WHERE run_id = %s AND rule_id IS NOT NULL",
            [run.pk],
        )
        used = {rule_id for (rule_id,) in cursor.fetchall()}
    return [
        f"{_label(rule)} matched no cost in "
        f"{run.period:%Y-%m}: no line item meets its conditions, or earlier rules take "
        "all those that do."
        for rule in ruleset.rules.order_by("position")
        if rule.pk not in used
    ]


def _replace_previous(run: AllocationRun) -> list[int]:
    """Mark the run's category and period's earlier results replaced, and delete them.

    Their runs stay, as replaced, for what still refers to them (an invoice drafted from
    one); failed runs stay as they are, and runs still queued each replace this one in
    turn when they run. The replaced runs' ids.
    """
    previous = list(
        AllocationRun.objects.filter(
            category=run.category_id, period=run.period, status=RunStatus.SUCCEEDED
        )
        .exclude(pk=run.pk)
        .values_list("pk", flat=True)
    )
    # Their results in one statement, not loaded by the ORM first.
    with connection.cursor() as cursor:
        for table in (AllocationResult._meta.db_table, AllocationSummary._meta.db_table):
            cursor.execute(f"DELETE FROM {table} WHERE run_id = ANY(%s)", [previous])
    AllocationRun.objects.filter(pk__in=previous).update(status=RunStatus.REPLACED)
    return previous
