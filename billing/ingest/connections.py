"""Database access the ingest needs beyond Django's ORM."""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import connection
from psycopg import sql


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
