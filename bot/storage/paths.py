"""Where the default database lives, without the database libraries (for cheap checks)."""

from __future__ import annotations

#: The SQLite file in the data directory, when ``DATABASE_URL`` is not set.
SQLITE_FILE = "policybot.sqlite3"
