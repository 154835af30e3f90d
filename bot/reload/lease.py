"""One reload at a time across every instance on one database: a lease in the database.

Several ``policybot serve`` instances (and the command line) may share one database and one
Chroma server. The index's own lock (``reload.lock`` in the data directory) keeps the reloads
of one data directory apart; the lease keeps apart those of instances that do not share a
data directory, or share it over a network file system whose locks are not to be trusted.

The lease is a row of the platform state (platform ``policybot``, kind ``lease``, key
``reload``): its value names the holder, and its ``updated_at`` is when the holder last
renewed it. Whoever inserts the row, or takes over a row not renewed for
:data:`LEASE_SECONDS` (its holder died), holds the lease; the holder renews it every
:data:`RENEW_SECONDS` while the reload runs and deletes it at the end. A second reload
meanwhile, from any instance, is refused with :class:`~bot.errors.ReloadInProgressError`.

A database that cannot be written does not stop a reload (an admin may need one most while
the database is down): it goes ahead under the index's own lock, and the log says so.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.errors import ReloadInProgressError
from bot.phrases import RELOAD_RUNNING
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import PlatformStateRow

log = logging.getLogger(__name__)

#: What a second reload is told, from whichever instance it is asked.
ALREADY_RUNNING = RELOAD_RUNNING
#: Seconds after its last renewal that a lease is taken to be abandoned (its holder died).
LEASE_SECONDS = 120.0
#: Seconds between two renewals of a held lease.
RENEW_SECONDS = 20.0

_WHERE = {"platform": "policybot", "kind": "lease", "key": "reload"}


class ReloadLease:
    """The reload lease on one database, for one holder.

    Args:
        db: the database every instance shares.
        clock: the current UTC time (tests pass a fake).
        seconds: how long an unrenewed lease stands.
    """

    def __init__(
        self, db: Database, *, clock: Clock = utcnow, seconds: float = LEASE_SECONDS
    ) -> None:
        self._db = db
        self._clock = clock
        self._seconds = seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def acquire(self) -> bool:
        """Take the lease; False when another holder has it (and renews it).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database cannot be written.
        """
        now = self._clock()
        with self._db.session() as session:
            insert = _insert(session).values(**_WHERE, value=self.holder, updated_at=now)
            added = session.execute(
                insert.on_conflict_do_nothing().returning(PlatformStateRow.id)
            ).first()
            if added is not None:
                return True
            stale = now - timedelta(seconds=self._seconds)
            taken: Any = session.execute(
                update(PlatformStateRow)
                .where(*_match(), PlatformStateRow.updated_at < stale)
                .values(value=self.holder, updated_at=now)
            )
        if taken.rowcount == 1:
            log.warning("took over a reload lease not renewed for %.0f s", self._seconds)
            return True
        return False

    def renew(self) -> bool:
        """Push the lease's expiry back; False when it is no longer this holder's."""
        with self._db.session() as session:
            renewed: Any = session.execute(
                update(PlatformStateRow)
                .where(*_match(), PlatformStateRow.value == self.holder)
                .values(updated_at=self._clock())
            )
        return bool(renewed.rowcount == 1)

    def release(self) -> None:
        """Give the lease up (only if this holder has it)."""
        with self._db.session() as session:
            session.execute(
                delete(PlatformStateRow).where(*_match(), PlatformStateRow.value == self.holder)
            )


@contextmanager
def reload_lease(db: Database | None, *, renew_every: float = RENEW_SECONDS) -> Iterator[None]:
    """Hold the reload lease while the block runs (see the module docstring).

    Args:
        db: the database every instance shares; None when it is unavailable (the reload then
            runs under the index's own lock only).
        renew_every: seconds between renewals.

    Raises:
        ReloadInProgressError: another reload, on any instance, holds the lease.
    """
    lease = ReloadLease(db) if db is not None else None
    held = False
    if lease is not None:
        try:
            held = lease.acquire()
        except Exception as exc:
            log.warning(
                "the reload lease cannot be taken (%s): reloading under the index's lock only",
                type(exc).__name__,
            )
            lease = None
        if lease is not None and not held:
            raise ReloadInProgressError(ALREADY_RUNNING)
    if lease is None:
        yield
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(lease, stop, renew_every), name="policybot-reload-lease", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        try:
            lease.release()
        except Exception as exc:  # it expires on its own
            log.warning("the reload lease could not be released (%s)", type(exc).__name__)


def _renew(lease: ReloadLease, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            if not lease.renew():
                log.warning("the reload lease was taken over while this reload ran")
                return
        except Exception as exc:  # tried again at the next renewal
            log.warning("the reload lease could not be renewed (%s)", type(exc).__name__)


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(PlatformStateRow)


def _match() -> tuple[Any, ...]:
    return (
        PlatformStateRow.platform == _WHERE["platform"],
        PlatformStateRow.kind == _WHERE["kind"],
        PlatformStateRow.key == _WHERE["key"],
    )
