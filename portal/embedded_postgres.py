"""The PostgreSQL the project starts itself when DATABASE_URL is unset.

The server is shared by every process of the checkout (web server, worker, manage.py,
tests); pgserver stops it when the last process using it exits. A process that was killed
never says it has gone, so `embedded_server_release` (the dev server's exit) skips those.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / ".local" / "pgdata"

# A single-node server that bulk-loads bills: tables created and loaded in one transaction
# skip the write-ahead log (wal_level=minimal), and loads do not force early checkpoints.
SERVER_SETTINGS = {
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
}


def embedded_database_url() -> str:
    """Start the embedded server if needed and return its connection URL."""
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(DATA_DIR, cleanup_mode="stop")
        _configure(server)
    return str(server.get_uri())


def live_users(pids: list[int], own_pid: int) -> list[int]:
    """The processes of `pids`, other than `own_pid`, that are still running."""
    import psutil

    return [pid for pid in pids if pid != own_pid and psutil.pid_exists(pid)]


def embedded_server_release() -> bool:
    """Let go of the embedded server this process started or joined, and stop it when no
    other running process uses it. True when it was stopped."""
    from pgserver.postgres_server import PostgresServer

    server = PostgresServer._instances.get(DATA_DIR.resolve())
    if server is None:
        return False
    with server._lock:
        users = server.global_process_id_list
        # Killed processes (a runserver child, an interrupted test run) stay listed and
        # would keep the server up for ever.
        users.put([os.getpid(), *live_users(users.get(), os.getpid())])
    server.cleanup()  # stops the server only if this process is the last one listed
    # `pg_ctl -w stop` returns once the server has removed its pid file.
    return not (server.pgdata / "postmaster.pid").exists()


def _configure(server: Any) -> None:
    """Apply SERVER_SETTINGS; restarting is only safe while no other process uses it."""
    current = server.psql("SHOW wal_level;")
    if SERVER_SETTINGS["wal_level"] in current:
        return
    from pgserver import _commands
    from pgserver.utils import PostmasterInfo

    if live_users(server.global_process_id_list.get(), os.getpid()):
        return

    statements = "".join(f"ALTER SYSTEM SET {k} = '{v}';" for k, v in SERVER_SETTINGS.items())
    server.psql(statements)
    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # made at import time
    pg_ctl(
        ["-w", "-m", "fast", "-l", str(server.log), "restart"],
        pgdata=server.pgdata,
        user=server.system_user,
        timeout=30,
    )
    # pgserver stops the server at the last exit only if it knows the running postmaster.
    server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)
