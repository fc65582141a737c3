"""Database access the ingest needs beyond Django's ORM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection
from psycopg import sql


@contextmanager
def side_connection(schema_name: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection in the tenant's schema, beside Django's own.

    For writes that must be visible (or kept) whatever the main transaction does:
    progress, shared tag sets.
    """
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as side:
        side.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema_name)))
        yield side


def raw_cursor() -> Any:
    """A psycopg cursor on Django's connection (for COPY), in the tenant's schema.

    Django's cursor wrapper sets the tenant's search_path as it opens.
    """
    return connection.cursor().cursor


def drop_staging_tables(prefix: str, *, on: psycopg.Connection[Any] | None = None) -> list[str]:
    """Drop leftover staging tables whose names start with `prefix` (a killed ingest's).

    On Django's connection, or on `on` (a side connection in the same schema).
    """
    with on.cursor() if on is not None else connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE %s",
            [prefix.replace("_", r"\_") + "%"],
        )
        names = [name for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
    return names


@contextmanager
def claimed(
    kind: str, object_id: int, *, on: psycopg.Connection[Any] | None = None
) -> Iterator[bool]:
    """Whether this process holds the claim on the object; one holder at a time.

    A session-level advisory lock: if the process dies, its connection closes and the
    claim goes with it, so a retry can take over. Taken on Django's connection, or on
    `on` (a side connection): a session's own locks are reentrant, so only another
    session can tell whether the holder is gone (see `billing.ingest.liveness`).
    """
    key = f"{connection.schema_name}:{kind}"  # type: ignore[attr-defined]
    held = bool(_value(on, "SELECT pg_try_advisory_lock(hashtext(%s), %s)", [key, object_id]))
    try:
        yield held
    finally:
        if held:
            _value(on, "SELECT pg_advisory_unlock(hashtext(%s), %s)", [key, object_id])


def _value(on: psycopg.Connection[Any] | None, query: str, params: list[Any]) -> Any:
    """The first value of the query's first row, on `on` or on Django's connection."""
    with on.cursor() if on is not None else connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    return row[0] if row else None
