"""Work whose process is gone is finished as stopped, not left `running` forever.

Work that runs (an ingest, an allocation run, an invoice run) holds its claim
(`portal.core.connections.claimed`, a session-level advisory lock) for as long as its
process lives: when the process is killed, its connection closes and PostgreSQL frees the
claim. So a `running` row whose claim another session can take has no process behind it.
Each kind of work looks for such rows whenever its rows are listed or shown, when a new
one starts and when a worker starts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import connection, connections, models
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from portal.audit.services import audit_record
from portal.core.connections import claimed, side_connection
from portal.tenants.models import Tenant

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)
# Finishes one stopped row on the side connection (committed at once); whether it did.
Finish = Callable[[psycopg.Connection[Any], int], bool]

STOPPED_RUN_MESSAGE = (
    "The process running it stopped before it finished (it was killed, or its machine or "
    "database connection went down); run it again."
)


def work_fail_stopped(
    *,
    kind: str,
    running: models.QuerySet[M],
    finish: Finish,
    audited: Sequence[str],
    keep: int | None = None,
) -> list[int]:
    """Finish every `running` row of this schema whose claim of `kind` is free; their ids.

    `keep` is a row the caller is about to carry out itself (a retry). Each finished row
    is audited as `<model>.stopped` with the values of its `audited` fields.
    """
    ids = [pk for pk in running.values_list("pk", flat=True) if pk != keep]
    if not ids:
        return []
    stopped = []
    schema = connection.schema_name  # type: ignore[attr-defined]
    # Another session than Django's: a session's own advisory locks are reentrant.
    with side_connection(schema) as side:
        # A row or table locked by an open transaction (the caller's own, say) is left
        # for a later look.
        side.execute("SET lock_timeout = '2s'")
        for pk in ids:
            # While the claim is held here, no retry can start the work.
            with claimed(kind, pk, on=side) as gone:
                if gone and _finished(finish, side, pk):
                    stopped.append(pk)
    model = running.model
    for row in model._default_manager.filter(pk__in=stopped):
        after = {name: getattr(row, name) for name in audited}
        logger.warning("%s %s in %s: its process stopped; now %s", kind, row.pk, schema, after)
        audit_record(
            actor=None, action=f"{model._meta.model_name}.stopped", instance=row, after=after
        )
    return stopped


def _finished(finish: Finish, side: psycopg.Connection[Any], pk: int) -> bool:
    try:
        return finish(side, pk)
    except psycopg.errors.LockNotAvailable:
        return False


def run_fail(
    side: psycopg.Connection[Any], model: type[models.Model], pk: int, notes: list[str]
) -> bool:
    """Mark the run `pk` failed with `notes` if it is still running; whether it was.

    For run models with `status`, `notes` (a JSON list) and `finished_at`.
    """
    cursor = side.execute(
        f"UPDATE {model._meta.db_table} SET status = 'failed', notes = %s, finished_at = %s "
        "WHERE id = %s AND status = 'running'",
        [json.dumps(notes), timezone.now(), pk],
    )
    return bool(cursor.rowcount)


def in_every_tenant(look: Callable[[], object], what: str) -> None:
    """`look` in each tenant's schema (when a worker starts); a failure is logged, never
    raised, as the worker serves its queues whatever happens here."""
    try:
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name())
        for schema in tenants.values_list("schema_name", flat=True):
            with schema_context(schema):
                look()
    except Exception:
        logger.exception("Looking for %s failed", what)
    finally:
        connections.close_all()
