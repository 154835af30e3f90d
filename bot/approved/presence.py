"""Whether a process that only answers has approved answers to serve, asked cheaply.

The one-shot ``policybot ask`` (and ``eval``) serves approved answers like the server, but
most installations have none, and loading SQLAlchemy and opening the database cost more than
the answer. With the default SQLite file, the standard library reads one row, read-only: no
file, no table or no active answer means there is nothing to serve, and the database
libraries are never loaded. Any other database (``DATABASE_URL``) is asked through them.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing

from bot.config import Settings
from bot.storage.paths import SQLITE_FILE

log = logging.getLogger(__name__)

#: Seconds to wait for a lock (a read in WAL mode takes none; an old journal might).
TIMEOUT_S = 1.0


def may_have_answers(settings: Settings) -> bool:
    """False when the settings' database surely holds no active approved answer; True when
    it does, or when only the database libraries can tell (another database, an error
    other than a missing table)."""
    if settings.database_url.strip():
        return True
    path = (settings.data_dir / SQLITE_FILE).resolve()
    if not path.is_file():
        return False
    read_only = f"{path.as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(read_only, uri=True, timeout=TIMEOUT_S)) as db:
            row = db.execute(
                "SELECT 1 FROM approved_answers WHERE status = 'active' LIMIT 1"
            ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # a database from before approved answers
            return False
        log.debug("approved answers: %s; asking through the database layer", exc)
        return True
    except sqlite3.Error as exc:
        log.debug("approved answers: %s; asking through the database layer", exc)
        return True
    return row is not None
