"""The database: a SQLite file in the data directory, or PostgreSQL through ``DATABASE_URL``.

:meth:`Database.open` builds the engine and brings the schema to the newest Alembic
revision. Several processes may start at once (a deployment with workers, 24 CLI calls in a
test): migrations run under a lock, a file lock for SQLite and an advisory lock for PostgreSQL,
so only one process migrates and the others find the schema up to date.

On SQLite every transaction that may write starts with ``BEGIN IMMEDIATE``: a writer takes the
write lock first instead of upgrading a read lock later, which SQLite would refuse with
"database is locked" when another writer is active. Together with WAL and a busy timeout,
concurrent writers queue instead of failing. Reads go through :meth:`Database.reading`, whose
transactions take no write lock, so a long write never holds them up. Writes that must not
hold up an answer (the platform state) go through :meth:`Database.brief`, which gives up
after :data:`BRIEF_TIMEOUT_MS` when another process holds the lock (on PostgreSQL, a lock on
the rows or table it writes: ``lock_timeout``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.errors import ConfigError
from bot.storage.paths import SQLITE_FILE as SQLITE_FILE  # re-exported: where it was

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
#: How long a health check waits for another writer's lock before saying so.
PROBE_TIMEOUT_MS = 2_000
#: How long a :meth:`Database.brief` write waits for another writer's lock: long enough for
#: another writer's ordinary transaction (milliseconds), too short to hold up an answer.
BRIEF_TIMEOUT_MS = 20
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_REVISION = "0006"
"""The newest migration; a test checks it against ``bot/storage/migrations/versions``.
Knowing it lets
a process skip loading Alembic when the schema is already up to date, the common case."""
#: The execution option that marks a read-only session's connections.
_READ_ONLY = "policybot_read_only"
#: The execution option giving a write session's SQLite busy timeout (ms), when not the usual.
_BUSY_MS = "policybot_busy_ms"
# Any fixed 64-bit number will do; it only has to be the same in every PolicyBot process.
_PG_MIGRATION_LOCK = 0x506F6C696379426F  # "PolicyBo"

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def database_url(settings: Settings) -> URL:
    """The SQLAlchemy URL for these settings.

    Args:
        settings: ``database_url`` (``DATABASE_URL``) wins; empty means the SQLite file
            ``policybot.sqlite3`` in ``data_dir``.

    Returns:
        The URL, with ``postgres://`` and ``postgresql://`` turned into the psycopg 3 driver.

    Raises:
        ConfigError: the URL cannot be parsed or names an unsupported database.
    """
    raw = settings.database_url.strip()
    if not raw:
        path = (settings.data_dir / SQLITE_FILE).resolve()
        return URL.create("sqlite+pysqlite", database=str(path))
    return normalise_url(raw)


def normalise_url(raw: str) -> URL:
    """Parse ``DATABASE_URL`` and pick the installed drivers (psycopg 3, pysqlite).

    Raises:
        ConfigError: not a PostgreSQL or SQLite URL. The message never repeats the URL,
            which may hold a password.
    """
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a valid database URL") from None
    if url.drivername == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    if url.get_backend_name() in {"postgresql", "sqlite"}:
        return url
    raise ConfigError("DATABASE_URL must be a postgresql:// or sqlite:/// URL")


class Database:
    """An engine and a session factory; one per process.

    Use :meth:`open` rather than the constructor: it also migrates the schema.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        reader = engine.execution_options(**{_READ_ONLY: True})
        self._readers = sessionmaker(reader, expire_on_commit=False)
        brief = engine.execution_options(**{_BUSY_MS: BRIEF_TIMEOUT_MS})
        self._brief = sessionmaker(brief, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Database:
        """Connect to the configured database and bring its schema up to date.

        Args:
            settings: where the data lives (``data_dir``, ``database_url``).
            migrate: run the Alembic migrations to the newest revision (under a lock).

        Returns:
            The database, ready for sessions.

        Raises:
            ConfigError: ``DATABASE_URL`` is invalid.
        """
        url = database_url(settings)
        db = cls(_create_engine(url))
        if migrate:
            db.migrate()
        return db

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite its transaction takes no write lock, so a
        long write elsewhere (a purge, another process) never holds up a read."""
        with self._readers.begin() as session:
            yield session

    @contextmanager
    def brief(self) -> Iterator[Session]:
        """A write session that gives up after :data:`BRIEF_TIMEOUT_MS` when another process
        holds the lock it needs (SQLite: "database is locked"; PostgreSQL: "lock timeout" on
        the rows or table), for writes that must not hold up an answer and have somewhere else
        to go meanwhile."""
        with self._brief.begin() as session:
            yield session

    def migrate(self) -> None:
        """Run the Alembic migrations to head; safe when several processes start together.

        The schema is read without taking the write lock, so that a process starts at once
        while another holds the lock, when there is nothing to migrate (the usual case).
        """
        reader = self.engine.execution_options(**{_READ_ONLY: True})
        with reader.connect() as connection, connection.begin():
            if _revision(connection) == HEAD_REVISION:
                return
        with self._migration_lock(), self.engine.connect() as connection, connection.begin():
            if self.dialect == "postgresql":
                # Held until this transaction ends: one migrator per server at a time.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            if _revision(connection) == HEAD_REVISION:
                return  # another process migrated while this one waited for the lock
            _upgrade(connection)

    def ping(self) -> None:
        """Check that the database answers, is at the schema this code expects, and accepts a
        write (a no-op update, rolled back): a read-only or locked database is unhealthy.

        On SQLite the probe waits at most :data:`PROBE_TIMEOUT_MS` for another writer.

        Raises:
            RuntimeError: the schema is not the current one (run the migrations).
            sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or written.
        """
        probe = self.engine.execution_options(**{_BUSY_MS: PROBE_TIMEOUT_MS})
        with probe.connect() as connection, connection.begin() as transaction:
            if _revision(connection) != HEAD_REVISION:
                raise RuntimeError("the database schema is not at the current revision")
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            transaction.rollback()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def _migration_lock(self) -> AbstractContextManager[Any]:
        path = self.engine.url.database
        if self.dialect != "sqlite" or not path or path == ":memory:":
            return nullcontext()
        return FileLock(f"{path}.migrate.lock", timeout=120)


def _upgrade(connection: Connection) -> None:
    # Imported here: loading Alembic costs a third of a second that a process whose schema
    # is up to date, nearly every one, does not need to pay.
    from alembic import command
    from alembic.config import Config

    log.info("migrating the database to revision %s", HEAD_REVISION)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "begin", _postgres_begin)
    return engine


def _postgres_begin(connection: Connection) -> None:
    # A brief write waits for a row or table lock no longer than SQLite's would: SET LOCAL
    # lasts until this transaction ends, so the pooled connection keeps its usual patience.
    busy = connection.get_execution_options().get(_BUSY_MS)
    if busy is not None:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(busy)}")


def _sqlite_engine(url: URL) -> Engine:
    path = url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of the driver's own,
    # which starts no transaction for SELECT and DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            # Persistent in the file: done once, by whichever process connects first.
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")  # deferred: shares the file with a writer (WAL)
        return
    # The busy timeout belongs to the pooled connection: set it when this session wants
    # another one than the connection has (a brief write, then an ordinary one).
    busy = int(options.get(_BUSY_MS, BUSY_TIMEOUT_MS))
    info = connection.connection.info
    if info.get(_BUSY_MS, BUSY_TIMEOUT_MS) != busy:
        connection.connection.dbapi_connection.execute(f"PRAGMA busy_timeout = {busy}")  # type: ignore[union-attr]
        info[_BUSY_MS] = busy
    connection.exec_driver_sql("BEGIN IMMEDIATE")
