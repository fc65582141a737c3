"""The PostgreSQL the project starts itself when DATABASE_URL is unset.

The server is shared by every process of the checkout (web server, worker, manage.py,
tests); pgserver stops it when the last process using it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / ".local" / "pgdata"


def embedded_database_url() -> str:
    """Start the embedded server if needed and return its connection URL."""
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(DATA_DIR, cleanup_mode="stop")
    return str(server.get_uri())
