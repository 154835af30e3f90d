"""``policybot backup``: a consistent copy of the data directory, taken while the bot runs.

The copy is itself a data directory: to restore, stop the bot, put the copy where
``POLICYBOT_DATA_DIR`` points (or point it at the copy) and start the bot again.

What it holds:

- the SQLite database (cases, outbox, audit, feedback), copied with SQLite's online backup,
  so that a write in progress never leaves it half-copied. With ``DATABASE_URL`` the database
  is PostgreSQL's and is backed up with ``pg_dump`` instead (see the deployment guide);
- the audit key (``audit.key``): without it the pseudonyms of the audit cannot be matched;
- the live index build and the ``CURRENT`` pointer (builds never change once made), the
  change log, the generated hints and any audit rows still spooled.

Vectors kept on a Chroma server (``CHROMA_HOST``) are not in the data directory: after a
restore, run ``policybot reload``, which rebuilds them from the documents.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.audit.spool import SPOOL_DIR
from bot.audit.trail import KEY_FILE
from bot.config import Settings
from bot.errors import PolicyBotError
from bot.knowledge.changes import LOG_FILE
from bot.llm.hints import CACHE_FILE
from bot.storage.db import SQLITE_FILE


@dataclass(frozen=True)
class BackupReport:
    """What a backup copied."""

    target: Path
    database: str
    build: str | None
    files: tuple[str, ...]

    def summary(self) -> str:
        build = f"index build {self.build}" if self.build else "no index build"
        return (
            f"Backed up to {self.target}: {self.database}, {build}, "
            f"{len(self.files)} other files. Restore: stop the bot, point POLICYBOT_DATA_DIR "
            "at this directory, start it."
        )


def backup(settings: Settings, target: Path) -> BackupReport:
    """Copy the data directory of ``settings`` to ``target``, a new directory.

    Raises:
        PolicyBotError: ``target`` exists already, or there is nothing to back up.
    """
    source = settings.data_dir
    if target.exists():
        raise PolicyBotError(f"{target} exists already: back up into a new directory")
    if not source.is_dir():
        raise PolicyBotError(f"{source} is not a data directory")
    target.mkdir(parents=True)
    database = _database(settings, source, target)
    build = _index(settings, target)
    files = []
    for name in (KEY_FILE, f"index/{LOG_FILE}", f"index/{CACHE_FILE}"):
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)
            files.append(name)
    spool = source / SPOOL_DIR
    if spool.is_dir():
        shutil.copytree(spool, target / SPOOL_DIR, ignore=shutil.ignore_patterns(".*"))
        files.extend(f"{SPOOL_DIR}/{p.name}" for p in (target / SPOOL_DIR).iterdir())
    return BackupReport(target, database, build, tuple(files))


def _database(settings: Settings, source: Path, target: Path) -> str:
    if settings.database_url:
        return "no database (PostgreSQL: back it up with pg_dump)"
    path = source / SQLITE_FILE
    if not path.is_file():
        return "no database yet"
    with sqlite3.connect(path) as live, sqlite3.connect(target / SQLITE_FILE) as copy:
        live.backup(copy)  # a consistent snapshot, even while the bot writes
    live.close()
    copy.close()
    return "the SQLite database"


def _index(settings: Settings, target: Path) -> str | None:
    current = settings.index_dir / "CURRENT"
    if not current.is_file():
        return None
    build = current.read_text(encoding="utf-8").strip()
    (target / "index" / "builds").mkdir(parents=True)
    shutil.copytree(settings.index_dir / "builds" / build, target / "index" / "builds" / build)
    shutil.copy2(current, target / "index" / "CURRENT")
    return build
