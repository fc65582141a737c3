"""Database sessions beside Django's own: side connections and claims on work in progress."""

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
    progress, shared tag sets, the end of work whose process is gone.
    """
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as side:
        side.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema_name)))
        yield side


@contextmanager
def claimed(
    kind: str, object_id: int, *, on: psycopg.Connection[Any] | None = None
) -> Iterator[bool]:
    """Whether this process holds the claim on the object; one holder at a time.

    A session-level advisory lock: if the process dies, its connection closes and the
    claim goes with it, so a retry can take over. Taken on Django's connection, or on
    `on` (a side connection): a session's own locks are reentrant, so only another
    session can tell whether the holder is gone (see `portal.core.liveness`).
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


@contextmanager
def local_settings(cursor: Any, values: dict[str, str]) -> Iterator[None]:
    """`values` in force in this transaction until the block ends, then the old ones.

    If the block fails, rolling the transaction (or savepoint) back restores them.
    """
    names = list(values)
    cursor.execute("SELECT " + ", ".join("current_setting(%s)" for _ in names), names)
    old = dict(zip(names, cursor.fetchone(), strict=True))
    _set_local(cursor, values)
    yield
    _set_local(cursor, old)


def _set_local(cursor: Any, values: dict[str, str]) -> None:
    pairs = [part for name, value in values.items() for part in (name, value)]
    cursor.execute("SELECT " + ", ".join("set_config(%s, %s, true)" for _ in values), pairs)
