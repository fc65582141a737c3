"""Celery helpers: tasks that run in one tenant's schema, and a ping to check a worker."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from celery import Task, shared_task
from django_tenants.utils import schema_context

from portal.tenants.models import Tenant

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)


def tenant_task(
    *, name: str | None = None, **options: Any
) -> Callable[[Callable[Concatenate[str, P], R]], Task[Concatenate[str, P], R | None]]:
    """Make a Celery task of `func(schema_name, *ids)` whose body runs in that schema.

    Pass ids and plain values, never model objects: the task loads what it needs. A task
    queued for a tenant that has since been deleted logs a warning and does nothing.
    Options go to `shared_task` (e.g. `max_retries`); `task_routes` in `portal.celery`
    picks the queue from the task's name.

        @tenant_task()
        def ingest_file(schema_name: str, upload_id: int) -> None: ...

        ingest_file.delay(connection.schema_name, upload.pk)
    """

    def decorator(func: Callable[Concatenate[str, P], R]) -> Task[Concatenate[str, P], R | None]:
        task_name = name or f"{func.__module__}.{func.__name__}"

        @shared_task(**options, bind=True, name=task_name)
        @functools.wraps(func)
        def run(
            self: Task[Concatenate[str, P], R | None],
            schema_name: str,
            *args: P.args,
            **kwargs: P.kwargs,
        ) -> R | None:
            if not Tenant.objects.filter(schema_name=schema_name).exists():
                logger.warning(
                    "%s[%s]: no tenant %r, skipped", task_name, self.request.id, schema_name
                )
                return None
            with schema_context(schema_name):
                return func(schema_name, *args, **kwargs)

        return run

    return decorator


@shared_task(name="portal.core.tasks.ping")
def ping(path: str) -> None:
    """Write "pong" to `path`: proof that a worker takes tasks from the broker."""
    Path(path).write_text("pong")
