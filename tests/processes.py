"""Real processes against the test database: a Celery worker, a management command.

They connect to the database the tests use (not the development one), so they see what
a committed tenant (`tests.committed`) holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from django.conf import settings
from django.db import connection

from portal.embedded_postgres import PROJECT_ROOT


def tests_database_url() -> str:
    """The URL of the database this test run uses, for DATABASE_URL."""
    db = connection.settings_dict
    query = {key: str(value) for key, value in (db.get("OPTIONS") or {}).items()}
    query["host"] = str(db["HOST"] or "localhost")
    user = quote(str(db["USER"] or ""), safe="")
    password = quote(str(db["PASSWORD"] or ""), safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}:{password}@{port}/{quote(str(db['NAME']))}?{urlencode(query)}"


def process_env() -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": tests_database_url()}
    # Tasks go through the broker the tests publish to, and are never run eagerly.
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.pop("PORTAL_TEST_DB", None)
    return env


def start_worker(queue: str, log: Path, *, concurrency: int = 1) -> subprocess.Popen[bytes]:
    """A prefork worker (as in production) consuming only `queue`."""
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue]
    command += ["--pool", "prefork", "--concurrency", str(concurrency)]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"]
    return _started(command, log)


def start_command(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """`manage.py <args>` in a process of its own."""
    return _started([sys.executable, str(PROJECT_ROOT / "manage.py"), *args], log)


def _started(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """`command` run against the test database, its output (and errors) written to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=process_env(), cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill_outright(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as the kernel or a lost machine ends a process: nothing of it cleans up."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(what: str, check: Callable[[], bool], *, seconds: float, log: Path) -> None:
    """Poll `check` until it holds; fail naming `what`, with the process's log."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


def side_database() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the test database, for locks the test holds itself."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def waiting_on(side: psycopg.Connection[tuple[object, ...]], schema: str, table: str) -> bool:
    """Whether some session waits for a lock on the table `schema.table`."""
    row = side.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT l.granted AND n.nspname = %s AND c.relname = %s",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def staging_tables(side: psycopg.Connection[tuple[object, ...]], schema: str) -> list[str]:
    rows = side.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s "
        "AND tablename LIKE 'billing\\_cost\\_stage\\_%%' ORDER BY tablename",
        [schema],
    ).fetchall()
    return [str(name) for (name,) in rows]


def claim_released(object_id: int) -> bool:
    """Whether no session holds a claim (`portal.core.connections.claimed`) on the object."""
    with side_database() as side:
        row = side.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND objid = %s AND objsubid = 2",
            [object_id],
        ).fetchone()
    return bool(row and row[0] == 0)


def statement_waits_for_lock(query_like: str) -> bool:
    """Whether a session whose statement matches `query_like` (SQL LIKE) waits for a lock."""
    # A connection of its own: a transaction sees pg_stat_activity as it first read it.
    with side_database() as side:
        row = side.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s",
            [query_like],
        ).fetchone()
    return bool(row and row[0])
