"""What every ``policybot serve`` instance must know alike about the chat platforms.

Several instances behind one load balancer share one database; a platform may send an event
to any of them, and retry it on another. What one instance learns, the others must know:

- the event ids seen (Slack retries and replays): the first instance to record an id handles
  the event, every later delivery of it is a repeat (:meth:`PlatformState.seen`);
- the threads the bot has answered in, whose later messages are follow-up questions;
- where each case's card is on each platform, so that any instance can update it;
- what an adapter learns from incoming messages and needs later for proactive messages
  (display names, personal chats opened, the service URL);
- each conversation's recent questions, so that a follow-up is understood on any instance
  (:mod:`bot.conversation.history`).

Values are opaque strings that the adapter writes and reads; the core never looks inside.
:class:`PlatformState` sits over a :class:`~bot.ports.StateStore`: :class:`DatabaseStateStore`
(the ``platform_state`` table) when the case database is open, :class:`MemoryStateStore`
(this process only) when it is not. State is a help, never a reason to fail a person's
request nor to keep it waiting: a write the store refuses (another process holds the write
lock) waits in this process and is written behind the answer once the store takes it, a
store that fails is logged, and the answer is the one that errs on the side of answering
(an event not seen before, a card not known).

Old rows go with the retention (:func:`purge_state`, called by :func:`bot.audit.trail.purge`):
event ids and conversations' questions after :data:`EVENTS_KEPT`, everything else
``POLICYBOT_RETENTION_DAYS`` after it was last written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from cachetools import LRUCache
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.ports import StateStore
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import PlatformStateRow

log = logging.getLogger(__name__)

EVENT = "event"
THREAD = "thread"
CARD = "card"
#: A person's display name, as seen on the platform (``teams:<id>`` -> name).
NAME = "name"
#: A personal chat the bot opened with a person: (person, tenant, service URL) -> reference.
CHAT = "chat"
#: What an instance learns about reaching the platform (its service URL, the bot's own id).
LEARNED = "learned"
#: A conversation's recent questions (:mod:`bot.conversation.history`).
CONVERSATION = "conversation"

FIRST_RETRY = 0.05
"""Seconds before the background writer tries a refused write again (then doubling)."""
MAX_RETRY = 2.0
"""The longest pause between two tries of the background writer."""
EVENTS_KEPT = timedelta(days=1)
"""How long an event id is remembered: Slack retries within the hour."""
KEY_CHARS = 255
MEMORY_ROWS = 10_000
"""Rows a :class:`MemoryStateStore` keeps (the least recently used go first), and writes a
:class:`PlatformState` keeps waiting for its store (the oldest go first)."""


def _key(key: str) -> str:
    """The stored key: a key too long for the column (a Teams chat) is replaced by its hash."""
    if len(key) <= KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class CardPlace(NamedTuple):
    """Where a case's card is on a platform: the conversation (a Slack channel, a Teams
    conversation) and the message in it (a Slack ``ts``, a Teams activity id)."""

    conversation: str
    message: str


class DatabaseStateStore:
    """A :class:`~bot.ports.StateStore` in the ``platform_state`` table, shared by every
    instance on the database.

    Args:
        db: the case database.
        clock: the current UTC time (tests pass a fake).
    """

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    def add(self, platform: str, kind: str, key: str, value: str = "") -> bool:
        # INSERT ... ON CONFLICT DO NOTHING: atomic on both databases, and no failed statement
        # to roll back; the unique constraint decides which instance was first: the insert
        # returns the new row's id, or nothing when the key was there already.
        with self._db.brief() as session:
            insert = _insert(session).values(**self._row(platform, kind, key, value))
            added = session.execute(
                insert.on_conflict_do_nothing().returning(PlatformStateRow.id)
            ).first()
        return added is not None

    def put(self, platform: str, kind: str, key: str, value: str) -> None:
        row = self._row(platform, kind, key, value)
        with self._db.brief() as session:
            insert = _insert(session).values(**row)
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=["platform", "kind", "key"],
                    set_={"value": row["value"], "updated_at": row["updated_at"]},
                )
            )

    def get(self, platform: str, kind: str, key: str) -> str | None:
        with self._db.reading() as session:
            return session.scalar(
                select(PlatformStateRow.value).where(*_match(platform, kind, key))
            )

    def delete(self, platform: str, kind: str, key: str) -> None:
        with self._db.brief() as session:
            session.execute(delete(PlatformStateRow).where(*_match(platform, kind, key)))

    def _row(self, platform: str, kind: str, key: str, value: str) -> dict[str, Any]:
        return {
            "platform": platform,
            "kind": kind,
            "key": _key(key),
            "value": value,
            "updated_at": self._clock(),
        }


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(PlatformStateRow)


def _match(platform: str, kind: str, key: str) -> tuple[Any, ...]:
    return (
        PlatformStateRow.platform == platform,
        PlatformStateRow.kind == kind,
        PlatformStateRow.key == _key(key),
    )


class MemoryStateStore:
    """A :class:`~bot.ports.StateStore` in this process only, bounded: for a process without a
    database (the database is down, or tests)."""

    def __init__(self, size: int = MEMORY_ROWS) -> None:
        self._rows: LRUCache[tuple[str, str, str], str] = LRUCache(size)
        self._lock = threading.Lock()

    def add(self, platform: str, kind: str, key: str, value: str = "") -> bool:
        with self._lock:
            if (platform, kind, key) in self._rows:
                return False
            self._rows[platform, kind, key] = value
            return True

    def put(self, platform: str, kind: str, key: str, value: str) -> None:
        with self._lock:
            self._rows[platform, kind, key] = value

    def get(self, platform: str, kind: str, key: str) -> str | None:
        with self._lock:
            return self._rows.get((platform, kind, key))

    def delete(self, platform: str, kind: str, key: str) -> None:
        with self._lock:
            self._rows.pop((platform, kind, key), None)


@dataclass(frozen=True)
class _Write:
    """A write waiting for the store: ``put`` (``add`` for an event id) or ``delete``."""

    op: Literal["add", "put", "delete"]
    value: str = ""

    def apply(self, store: StateStore, platform: str, kind: str, key: str) -> None:
        if self.op == "add":
            store.add(platform, kind, key, self.value)
        elif self.op == "put":
            store.put(platform, kind, key, self.value)
        else:
            store.delete(platform, kind, key)


class PlatformState:
    """The platform state adapters keep (see the module docstring).

    No request waits on the store's lock. A write goes to the store at once when it can be
    made without waiting (:meth:`bot.storage.db.Database.brief`: another writer's ordinary
    transaction is waited for, a long lock is not). A write the store refuses (another
    process holds the database's write lock, the database is down) waits in this process,
    and every write after it queues behind it, in order, until a background writer has
    written them all; reads look at the waiting writes first. So nothing is lost to a lock
    and the requests of that time do not try the store at all. At most :data:`MEMORY_ROWS`
    writes wait; past that the oldest are dropped, with a warning (event ids and
    conversations are short-lived, and cards are redrawn with the next step of their case).

    Args:
        store: where it is kept.
        retry: the first pause of the background writer after a refused write, in seconds;
            it doubles up to :data:`MAX_RETRY`.
    """

    def __init__(self, store: StateStore, *, retry: float = FIRST_RETRY) -> None:
        self.store = store
        self._retry = retry
        self._waiting: OrderedDict[tuple[str, str, str], _Write] = OrderedDict()
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._writer: threading.Thread | None = None
        self._closing = threading.Event()
        self.dropped = 0

    def seen(self, platform: str, event_id: str) -> bool:
        """Record ``event_id``; True when it was recorded already (by any instance): a repeat.

        While writes wait (the store refused one), an id is a repeat when it waits here or
        is in the store already (an ordinary read, which no write lock holds up); two
        instances that both cannot write may then both handle one event: a rare second
        answer is better than a lost question.
        """
        key = (platform, EVENT, event_id)
        if not self._behind():
            try:
                return not self.store.add(platform, EVENT, event_id)
            except Exception:
                log.warning(
                    "could not record an event in the database: it waits in this process",
                    exc_info=True,
                )
        with self._lock:
            waiting = self._waiting.get(key)
        if waiting is not None:
            return waiting.op != "delete"
        if self._stored(platform, EVENT, event_id) is not None:
            return True
        self._queue(key, _Write("add"))
        return False

    def forget(self, platform: str, event_id: str) -> None:
        """Forget ``event_id`` (its handling failed, so that the platform's retry is handled)."""
        self._write((platform, EVENT, event_id), _Write("delete"), "forget an event")

    def mark_thread(self, platform: str, thread: str) -> None:
        """Note a thread the bot has answered in (its later messages are follow-ups)."""
        self._write((platform, THREAD, thread), _Write("put"), "mark a thread")

    def answered_thread(self, platform: str, thread: str) -> bool:
        """Whether the bot has answered in ``thread``."""
        return self.recall(platform, THREAD, thread) is not None

    def remember_card(self, case_id: str, platform: str, ref: str) -> None:
        """Note where the latest card of a case is on ``platform`` (the adapter's reference)."""
        self.remember(platform, CARD, case_id, ref)

    def card(self, case_id: str, platform: str) -> str | None:
        """Where the latest card of a case is on ``platform``; None when it is not known."""
        return self.recall(platform, CARD, case_id)

    def place_card(self, case_id: str, platform: str, place: CardPlace) -> None:
        """Note where the latest card of a case is on ``platform``."""
        value = json.dumps(
            {"conversation": place.conversation, "message": place.message}, separators=(",", ":")
        )
        self.remember_card(case_id, platform, value)

    def card_of(self, case_id: str, platform: str) -> CardPlace | None:
        """Where the latest card of a case is on ``platform``, as far as any instance knows;
        None when it is not known (never written, purged, or not readable)."""
        return _card_place(self.card(case_id, platform))

    def learn_name(self, platform: str, person: str, name: str) -> None:
        """Note a person's display name; written only when it changed."""
        self._learn(platform, NAME, person, name)

    def names_of(self, platform: str, people: Iterable[str | None]) -> dict[str, str]:
        """The display names known of ``people`` (those not known are left out)."""
        names = {person: self.recall(platform, NAME, person) for person in set(people) if person}
        return {person: name for person, name in names.items() if name}

    def learn_endpoint(self, platform: str, *, service_url: str = "", bot_id: str = "") -> None:
        """Note the service URL and the bot's id an incoming event came with; written only
        when they changed (every incoming event carries them)."""
        if service_url:
            self._learn(platform, LEARNED, "service_url", service_url)
        if bot_id:
            self._learn(platform, LEARNED, "bot_id", bot_id)

    def service_url(self, platform: str) -> str | None:
        """The service URL of the latest incoming event (any instance's), if any."""
        return self.recall(platform, LEARNED, "service_url")

    def bot_id(self, platform: str) -> str | None:
        """The bot's own id on the platform, as last seen, if any."""
        return self.recall(platform, LEARNED, "bot_id")

    def chat_with(self, platform: str, person: str, *, tenant: str, url: str) -> str | None:
        """The reference of the personal chat the bot opened with ``person``, if any."""
        return self.recall(platform, CHAT, _chat_key(person, tenant, url))

    def remember_chat(
        self, platform: str, person: str, reference: str, *, tenant: str, url: str
    ) -> None:
        """Note the personal chat the bot opened with ``person`` (so as not to open one per
        message)."""
        self.remember(platform, CHAT, _chat_key(person, tenant, url), reference)

    def _learn(self, platform: str, kind: str, key: str, value: str) -> None:
        if self.recall(platform, kind, key) != value:
            self.remember(platform, kind, key, value)

    def remember(self, platform: str, kind: str, key: str, value: str) -> None:
        """Keep ``value`` under ``kind`` and ``key`` (a name, a chat, a service URL)."""
        self._write((platform, kind, key), _Write("put", value), f"remember a {kind}")

    def recall(self, platform: str, kind: str, key: str) -> str | None:
        """What :meth:`remember` kept, or None (also when the store fails)."""
        with self._lock:
            waiting = self._waiting.get((platform, kind, key))
        if waiting is not None:
            return None if waiting.op == "delete" else waiting.value
        return self._stored(platform, kind, key)

    def settle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the waiting writes to reach the store; whether
        none is left."""
        with self._written:
            return self._written.wait_for(lambda: not self._waiting, timeout=timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Give the waiting writes ``timeout`` seconds to reach the store, then stop the
        background writer (what it could not write is lost: this process's memory only)."""
        self.settle(timeout)
        self._closing.set()
        writer = self._writer
        if writer is not None:
            writer.join(timeout=timeout)
        with self._lock:
            if self._waiting:
                log.warning("%d platform state writes were not written", len(self._waiting))

    def _stored(self, platform: str, kind: str, key: str) -> str | None:
        try:
            return self.store.get(platform, kind, key)
        except Exception:
            log.warning("could not read a %s %s", platform, kind, exc_info=True)
            return None

    def _behind(self) -> bool:
        with self._lock:
            return bool(self._waiting)

    def _write(self, key: tuple[str, str, str], write: _Write, what: str) -> None:
        """``write`` to the store, or behind the writes that wait (see the class)."""
        if not self._behind():
            try:
                write.apply(self.store, *key)
            except Exception:
                log.warning(
                    "could not %s in the database: it waits in this process", what, exc_info=True
                )
            else:
                return
        self._queue(key, write)

    def _queue(self, key: tuple[str, str, str], write: _Write) -> None:
        with self._lock:
            self._waiting.pop(key, None)  # the newer write replaces it, at the back
            self._waiting[key] = write
            while len(self._waiting) > MEMORY_ROWS:
                self._waiting.popitem(last=False)
                self.dropped += 1
                if self.dropped % MEMORY_ROWS == 1:
                    log.warning("platform state: %d waiting writes dropped", self.dropped)
            if self._writer is None and not self._closing.is_set():
                self._writer = threading.Thread(
                    target=self._write_behind, name="policybot-state", daemon=True
                )
                self._writer.start()

    def _write_behind(self) -> None:
        """The background writer: the waiting writes, oldest first, until none is left."""
        pause = self._retry
        while not self._closing.is_set():
            with self._lock:
                if not self._waiting:
                    self._writer = None
                    self._written.notify_all()
                    return
                key, write = next(iter(self._waiting.items()))
            try:
                write.apply(self.store, *key)
            except Exception as exc:
                if pause == self._retry:
                    log.warning("platform state: the database still refuses writes (%s)", exc)
                self._closing.wait(pause)
                pause = min(pause * 2, MAX_RETRY)
                continue
            if pause != self._retry:
                log.info("platform state: the database takes writes again")
            pause = self._retry
            with self._lock:
                if self._waiting.get(key) is write:
                    del self._waiting[key]
        with self._lock:
            self._writer = None


def _chat_key(person: str, tenant: str, url: str) -> str:
    return json.dumps([person, tenant, url])


def _card_place(value: str | None) -> CardPlace | None:
    """A card's place as stored; rows written before :class:`CardPlace` named the parts
    as each platform does (Slack ``channel``/``ts``, Teams ``conversation``/``activity``)."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    conversation = data.get("conversation", data.get("channel"))
    message = data.get("message", data.get("ts", data.get("activity")))
    if not conversation or not message:
        return None
    return CardPlace(str(conversation), str(message))


def purge_state(session: Session, *, now: datetime, cutoff: datetime | None) -> int:
    """Delete event ids and conversations older than :data:`EVENTS_KEPT` and, when
    ``cutoff`` is given, the other rows last written before it; returns how many rows went."""
    short_lived = (EVENT, CONVERSATION)
    statements = [
        delete(PlatformStateRow).where(
            PlatformStateRow.kind.in_(short_lived),
            PlatformStateRow.updated_at < now - EVENTS_KEPT,
        )
    ]
    if cutoff is not None:
        statements.append(
            delete(PlatformStateRow).where(
                PlatformStateRow.kind.not_in(short_lived), PlatformStateRow.updated_at < cutoff
            )
        )
    deleted = 0
    for statement in statements:
        result: Any = session.execute(statement)
        deleted += int(result.rowcount or 0)
    return deleted
