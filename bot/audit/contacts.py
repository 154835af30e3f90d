"""Who can be told of a policy change, and who asked not to be.

The audit trail names askers by pseudonym only (:mod:`bot.audit.trail`). To send someone a direct
message about a clause their answer rested on, the bot must know how to reach them: each time
a person asks in Slack or Teams, :meth:`ContactBook.remember` keeps their address (the
conversation reference the adapter gave, or their ``platform:user`` id) under the same
pseudonym the audit gives them. The address is encrypted (Fernet, with a key derived from the
audit key in the data directory), so a copy of the database alone still does not say who
asked what. People who asked from the console or the command line cannot be reached and are
not kept. Addresses older than ``POLICYBOT_NOTIFY_DAYS`` are of no more use and are purged.

Mutes (``/policy mute`` in Slack, ``mute`` in Teams) are kept by pseudonym too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from cachetools import TTLCache
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.audit.trail import pseudonymise
from bot.models import Question
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import ContactRow, MuteRow

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

#: The platforms whose askers the bot can message directly.
REACHABLE = frozenset({"slack", "teams"})
#: Seconds a process waits before writing the same person's same address again.
REFRESH_SECONDS = 3600


@dataclass(frozen=True)
class Contact:
    """How to reach one person: their platform and the address its notifier takes."""

    person: str
    platform: str
    address: str


class ContactBook:
    """Addresses and mutes, by the audit's pseudonyms.

    Args:
        db: the database.
        key: the audit key (:func:`bot.audit.trail.load_or_create_key`): pseudonyms and the
            encryption key both come from it.
        clock: the current UTC time.
    """

    def __init__(self, db: Database, *, key: bytes, clock: Clock = utcnow) -> None:
        self._db = db
        self._key = key
        self._clock = clock

    @cached_property
    def _fernet(self) -> Fernet:
        # Imported on first use: the case commands that never touch an address skip its cost.
        from cryptography.fernet import Fernet

        secret = hmac.new(self._key, b"policybot contacts", hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(secret))

    def person(self, user_id: str) -> str:
        """The pseudonym of a ``platform:user`` id (the audit's)."""
        return pseudonymise(self._key, user_id)

    def remember(self, question: Question) -> bool:
        """Keep (or refresh) how to reach the asker of ``question``.

        Returns:
            False when the asker cannot be messaged (the console, the command line).
        """
        if question.platform not in REACHABLE or not question.user_id:
            return False
        person = self.person(question.user_id)
        address = question.conversation or question.user_id
        sealed = self._fernet.encrypt(address.encode("utf-8")).decode("ascii")
        now = self._clock()
        for _attempt in range(2):  # another instance may insert the same person meanwhile
            try:
                with self._db.session() as session:
                    row = session.get(ContactRow, person, with_for_update=True)
                    if row is None:
                        session.add(
                            ContactRow(
                                person=person,
                                platform=question.platform,
                                address=sealed,
                                updated_at=now,
                            )
                        )
                    else:
                        row.platform, row.address, row.updated_at = question.platform, sealed, now
                return True
            except IntegrityError:
                continue
        return True

    def contact(self, person: str) -> Contact | None:
        """How to reach ``person`` (a pseudonym), or None when they cannot be reached."""
        with self._db.reading() as session:
            row = session.get(ContactRow, person)
            if row is None:
                return None
            platform, sealed = row.platform, row.address
        from cryptography.fernet import InvalidToken

        try:
            address = self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken:  # written under another audit key: unreachable, not an error
            log.warning("a contact address cannot be read with this audit key; skipped")
            return None
        return Contact(person, platform, address)

    def mute(self, user_id: str) -> bool:
        """Stop policy-change messages to ``user_id``; False when they were muted already."""
        person = self.person(user_id)
        try:
            with self._db.session() as session:
                if session.get(MuteRow, person) is not None:
                    return False
                session.add(MuteRow(person=person, at=self._clock()))
        except IntegrityError:  # muted at the same moment elsewhere
            return False
        log.info("policy-change messages muted for %s", person)
        return True

    def unmute(self, user_id: str) -> bool:
        """Send policy-change messages to ``user_id`` again; False when they were not muted."""
        person = self.person(user_id)
        with self._db.session() as session:
            gone = session.execute(delete(MuteRow).where(MuteRow.person == person)).rowcount  # type: ignore[attr-defined]
        return bool(gone)

    def muted(self) -> set[str]:
        """The pseudonyms of everyone muted."""
        with self._db.reading() as session:
            return set(session.scalars(select(MuteRow.person)))

    def purge(self, older_than: timedelta) -> int:
        """Forget addresses not refreshed for ``older_than`` (nobody that old is messaged)."""
        cutoff: datetime = self._clock() - older_than
        with self._db.session() as session:
            gone = session.execute(delete(ContactRow).where(ContactRow.updated_at < cutoff))
        return int(gone.rowcount)  # type: ignore[attr-defined]


class ContactKeeper:
    """Keeps askers' addresses behind their answers (what :class:`~bot.assistant.Assistant`
    calls after each answer): once an hour per person and address per process, on a thread
    of its own when ``background``, so that no answer waits on the database.

    Args:
        book: gives the contact book; it may raise while the database is unavailable (the
            address is then kept at the person's next question).
        background: write on a worker thread (a server); else at once (tests, the CLI).
    """

    def __init__(self, book: Callable[[], ContactBook], *, background: bool) -> None:
        self._book = book
        self._recent: TTLCache[tuple[str, str], bool] = TTLCache(4096, REFRESH_SECONDS)
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="contacts") if background else None

    def keep(self, question: Question) -> None:
        """Remember how to reach the asker of ``question`` (never raises)."""
        if question.platform not in REACHABLE:
            return
        key = (question.user_id, question.conversation)
        with self._lock:
            if key in self._recent:
                return
            self._recent[key] = True
        if self._worker is None:
            self._write(question)
        else:
            self._worker.submit(self._write, question)

    def close(self) -> None:
        """Finish the writes queued."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)

    def _write(self, question: Question) -> None:
        try:
            self._book().remember(question)
        except Exception as exc:  # kept at the next question instead
            with self._lock:
                self._recent.pop((question.user_id, question.conversation), None)
            log.warning("could not keep an asker's address: %s", type(exc).__name__)
