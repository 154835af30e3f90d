"""The outbox: notifications are stored with the change that causes them, then delivered.

A case change and its notification are written in one transaction (:func:`enqueue`), so a
crash between the database and the chat platform loses nothing: the row stays ``pending``
until :meth:`Outbox.flush` delivers it. A delivery that fails (the notifier raises) stays
pending with ``attempts``, ``last_error`` and a ``next_attempt_at`` that backs off
exponentially up to a cap. Nothing is given up on. A reply to an asker no chat platform can
ever reach (they asked from the command line) is not attempted at all: it is queued already
``undeliverable``, with the reason, and they read the reply with ``policybot escalations show``.

Delivery is at least once: a flusher claims a row for a lease before calling the notifier, so
two flushers (threads, or ``serve`` instances on one database) never deliver the same row, but
a process that dies after the platform accepted a message and before the row was marked sent
delivers it again once the lease runs out.
Rows for one destination (a team's channel, one asker) go out in order: a row that is waiting
holds back the later rows for the same destination.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.case_views import WAITING, CaseView, build_view, format_ref
from bot.models import Team
from bot.ports import Notifier
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import CaseEventRow, CaseRow, MuteRow, OutboxRow

log = logging.getLogger(__name__)

Kind = Literal["post_case", "deliver_reply", "remind", "review_approved"]
MessageKind = Literal["announce", "notify"]
SYSTEM_ACTOR = "policybot"
_ERROR_CHARS = 500
UNREACHABLE_PLATFORMS = frozenset({"cli"})
"""Where askers can only come back for a reply themselves: no notifier reaches them."""
UNDELIVERABLE: Final = "undeliverable"
ASKER_CHOICE = timedelta(minutes=2)
"""How long a new case's announcement may wait for its asker to choose whether the team sees
their name (:func:`release_held`). Shorter than :data:`LEASE`, so that a held row and a row
being delivered are told apart by their due time alone."""
LEASE = timedelta(minutes=5)
"""How long a flusher owns a row while it calls the notifier."""


def enqueue(
    session: Session,
    *,
    kind: Kind,
    case: CaseRow,
    now: datetime,
    payload: dict[str, Any],
    held: bool = False,
) -> None:
    """Add a notification to the outbox inside the caller's transaction.

    Args:
        session: the transaction that makes the change the notification is about.
        kind: ``post_case`` (to the team), ``deliver_reply`` (to the asker) or ``remind``.
        case: the case it is about (for ``remind``, any one of the team's cases).
        now: the time of the change; the row is due at once unless ``held``.
        payload: what the delivery needs besides the case (the reply text, the case ids).
        held: due only after :data:`ASKER_CHOICE`, unless :func:`release_held` comes first.
    """
    # Deliveries to one destination keep their order, and one that keeps failing holds back
    # only its own destination: a case card that cannot be posted must not stop the team's
    # other cards, so each case's announcements and replies are destinations of their own.
    destination = {
        "deliver_reply": f"asker:{case.id}",
        "post_case": f"case:{case.id}",
    }.get(kind, f"team:{case.team}")
    row = OutboxRow(
        kind=kind,
        destination=destination,
        case_id=case.id,
        team=case.team,
        payload=payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now + ASKER_CHOICE if held else now,
    )
    if kind == "deliver_reply" and case.platform in UNREACHABLE_PLATFORMS:
        reason = unreachable_reason(format_ref(case.team, case.number))
        row.status, row.last_error, row.sent_at = UNDELIVERABLE, reason, now
        session.add(
            CaseEventRow(
                case_id=case.id, at=now, by=SYSTEM_ACTOR, action="undelivered", text=reason
            )
        )
        log.info("the reply on case %s is undeliverable: the asker used the command line", case.id)
    session.add(row)


def unreachable_reason(ref: str) -> str:
    """Why a reply to an asker on the command line is not sent, and where they read it."""
    return (
        "the asker used the command line, which no chat platform reaches: they read the "
        f"reply with `policybot escalations show {ref}`"
    )


def enqueue_message(
    session: Session,
    *,
    kind: MessageKind,
    destination: str,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    """Add a message that is not about a case to the outbox, in the caller's transaction.

    Args:
        session: the transaction that records why the message is sent.
        kind: ``announce`` (payload ``platform``, ``text``: a post in the platform's
            announcement channel) or ``notify`` (payload ``person``, ``platform``,
            ``address``, ``text``: a direct message, skipped if the person mutes first).
        destination: what orders deliveries (``announce:slack``, ``person:<pseudonym>``).
        now: the time of the change; the row is due at once.
        payload: as above.
    """
    session.add(
        OutboxRow(
            kind=kind,
            destination=destination,
            case_id=None,
            team=None,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )


def release_held(session: Session, case: CaseRow, now: datetime) -> bool:
    """Make the case's held announcement (:func:`enqueue` ``held``) due now.

    Returns:
        Whether one was held: False when it was delivered, is being delivered, or was never
        held, so that the caller knows to update the card already posted instead.
    """
    rows = session.scalars(
        select(OutboxRow)
        .where(
            OutboxRow.case_id == case.id,
            OutboxRow.kind == "post_case",
            OutboxRow.status == "pending",
            OutboxRow.attempts == 0,
        )
        .with_for_update()
    ).all()
    released = False
    for row in rows:
        # Still held: due later, but no later than the hold allows (a flusher's lease would
        # have pushed it further).
        if now < row.next_attempt_at <= row.created_at + ASKER_CHOICE:
            row.next_attempt_at = now
            released = True
    return released


def is_held(session: Session, case_id: int, now: datetime) -> bool:
    """Whether the case's announcement waits for its asker's choice right now (see
    :meth:`Outbox.held`): the team may not see the case, nor take a step on it, yet."""
    rows = session.scalars(
        select(OutboxRow).where(
            OutboxRow.case_id == case_id,
            OutboxRow.kind == "post_case",
            OutboxRow.status == "pending",
            OutboxRow.attempts == 0,
            OutboxRow.next_attempt_at > now,
        )
    ).all()
    return any(row.next_attempt_at <= row.created_at + ASKER_CHOICE for row in rows)


@dataclass(frozen=True)
class PendingDelivery:
    """An outbox row not yet delivered, for ``policybot`` diagnostics."""

    id: int
    kind: str
    case_id: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    status: str = "pending"


@dataclass(frozen=True)
class FlushResult:
    """What one :meth:`Outbox.flush` did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0


@dataclass(frozen=True)
class _Call:
    kind: str
    views: tuple[CaseView, ...]
    conversation_ref: str = ""
    text: str = ""
    team: str = ""
    platform: str = ""


class Outbox:
    """Delivers pending notifications through a :class:`~bot.ports.Notifier`.

    Args:
        db: the database holding the outbox.
        clock: the current UTC time (tests pass a fake).
        base_delay: the wait after the first failure; it doubles with each further one.
        max_delay: the longest wait between two attempts.
        lease: how long a flusher owns a row while it calls the notifier.
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = utcnow,
        base_delay: timedelta = timedelta(seconds=30),
        max_delay: timedelta = timedelta(hours=1),
        lease: timedelta = LEASE,
    ) -> None:
        self._db = db
        self._clock = clock
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._lease = lease

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt after ``attempts`` failures (capped)."""
        return min(self._base_delay * (1 << max(attempts - 1, 0)), self._max_delay)

    def flush(self, notifier: Notifier, *, limit: int = 200) -> FlushResult:
        """Deliver every due row, oldest first, each destination in order.

        Args:
            notifier: the platform (or platforms) that deliver.
            limit: the most rows looked at in one call.

        Returns:
            Counts of rows sent, failed (retried later), skipped (nothing left to say, such
            as a reminder about cases claimed since, or a message to someone who muted them
            since) and still pending.
        """
        now = self._clock()
        with self._db.session() as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.destination, OutboxRow.next_attempt_at)
                .where(OutboxRow.status == "pending")
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
        counts = {"sent": 0, "failed": 0, "skipped": 0}
        held: set[str] = set()
        for row_id, destination, due in rows:
            if destination in held or due > now or not self._claim(row_id, now):
                held.add(destination)
                continue
            outcome = self._deliver(row_id, notifier)
            counts[outcome] += 1
            if outcome == "failed":
                held.add(destination)
        return FlushResult(**counts, pending=self.pending_count())

    def pending_count(self) -> int:
        """How many notifications wait for delivery."""
        with self._db.session() as session:
            count = session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
            )
        return int(count or 0)

    def backlog(self) -> tuple[int, datetime | None]:
        """How many notifications wait, and when the oldest of them was queued."""
        with self._db.reading() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(OutboxRow.created_at)).where(
                    OutboxRow.status == "pending"
                )
            ).one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite keeps no time zone
            oldest = oldest.replace(tzinfo=UTC)
        return int(count or 0), oldest

    def pending(self, *, undeliverable: bool = False) -> list[PendingDelivery]:
        """The notifications waiting for delivery, oldest first; with ``undeliverable``, also
        those that no platform can ever deliver (each with its reason in ``last_error``)."""
        wanted = ("pending", UNDELIVERABLE) if undeliverable else ("pending",)
        with self._db.session() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.status.in_(wanted)).order_by(OutboxRow.id)
            ).all()
            refs = {row.case_id: _case_ref(session, row.case_id) for row in rows}
        return [
            PendingDelivery(
                id=row.id,
                kind=row.kind,
                case_id=refs[row.case_id],
                attempts=row.attempts,
                last_error=row.last_error,
                next_attempt_at=row.next_attempt_at,
                status=row.status,
            )
            for row in rows
        ]

    def held(self) -> set[str]:
        """The ids of cases whose announcement waits for the asker's choice right now: the team
        is not shown them anywhere yet (not even in a list of its cases)."""
        now = self._clock()
        with self._db.session() as session:
            rows = session.scalars(
                select(OutboxRow).where(
                    OutboxRow.kind == "post_case",
                    OutboxRow.status == "pending",
                    OutboxRow.attempts == 0,
                    OutboxRow.next_attempt_at > now,
                )
            ).all()
            return {
                ref
                for row in rows
                if row.next_attempt_at <= row.created_at + ASKER_CHOICE
                and (ref := _case_ref(session, row.case_id)) is not None
            }

    def _claim(self, row_id: int, now: datetime) -> bool:
        # The row is leased by the one flusher that finds it due under its row lock. On
        # PostgreSQL a row another instance is claiming at this moment is skipped rather than
        # waited for (FOR UPDATE SKIP LOCKED); once that claim commits, its lease makes the
        # row not due. SQLite takes one writer at a time (BEGIN IMMEDIATE) and ignores the
        # clause.
        with self._db.session() as session:
            row = session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.id == row_id,
                    OutboxRow.status == "pending",
                    OutboxRow.next_attempt_at <= now,
                )
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False
            row.next_attempt_at = now + self._lease
            return True

    def _deliver(self, row_id: int, notifier: Notifier) -> Literal["sent", "failed", "skipped"]:
        try:
            with self._db.session() as session:
                call = _prepare(session, session.get_one(OutboxRow, row_id))
            if call is None:
                self._mark(row_id, "skipped", None)
                return "skipped"
            _call(notifier, call)
        except Exception as exc:  # any failure means "try again later", never "drop it"
            self._mark(row_id, "pending", f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS])
            return "failed"
        self._mark(row_id, "sent", None)
        return "sent"

    def _mark(self, row_id: int, status: str, error: str | None) -> None:
        now = self._clock()
        with self._db.session() as session:
            row = session.get_one(OutboxRow, row_id, with_for_update=True)
            row.status = status
            if status == "pending":
                row.attempts += 1
                row.last_error = error
                row.next_attempt_at = now + self.backoff(row.attempts)
                log.warning(
                    "delivery %s (%s) failed, attempt %d, retrying at %s: %s",
                    row.id,
                    row.kind,
                    row.attempts,
                    row.next_attempt_at.isoformat(),
                    error,
                )
                return
            row.sent_at = now
            if status == "sent" and row.kind == "deliver_reply" and row.case_id is not None:
                session.add(
                    CaseEventRow(
                        case_id=row.case_id,
                        at=now,
                        by=SYSTEM_ACTOR,
                        action="delivered",
                        text="reply delivered to the asker",
                    )
                )


def _prepare(session: Session, row: OutboxRow) -> _Call | None:
    """What to send for a row, read fresh: a card shows the case as it is now."""
    payload = row.payload or {}
    if row.kind == "remind":
        ids = [int(case_id) for case_id in payload.get("case_ids", [])]
        cases = session.scalars(
            select(CaseRow)
            .where(CaseRow.id.in_(ids), CaseRow.status.in_(WAITING))
            .order_by(CaseRow.id)
        ).all()
        if not cases:
            return None  # claimed since the reminder was queued: nothing left to chase
        views = tuple(build_view(session, case) for case in cases)
        return _Call("remind", views, team=row.team or "")
    if row.kind == "announce":
        return _Call("announce", (), text=payload["text"], platform=payload["platform"])
    if row.kind == "notify":
        if session.get(MuteRow, payload["person"]) is not None:
            return None  # muted after the message was queued
        ref, platform = payload["address"], payload["platform"]
        return _Call("notify", (), conversation_ref=ref, text=payload["text"], platform=platform)
    if row.kind == "review_approved":  # approved answers to review (bot.approved.service): no case
        return _Call("review_approved", (), text=str(payload["text"]), team=row.team or "")
    if row.case_id is None:
        raise ValueError(f"outbox row {row.id} has no case")
    case = session.get_one(CaseRow, row.case_id)
    view = build_view(session, case)
    if row.kind == "post_case":
        return _Call("post_case", (view,))
    if row.kind == "deliver_reply":
        ref = case.conversation_ref or case.asker_id
        return _Call("deliver_reply", (view,), conversation_ref=ref, text=payload["text"])
    raise ValueError(f"outbox row {row.id} has an unknown kind {row.kind!r}")


def _call(notifier: Notifier, call: _Call) -> None:
    if call.kind == "post_case":
        notifier.post_case(call.views[0])
    elif call.kind == "deliver_reply":
        notifier.deliver_reply(call.conversation_ref, call.views[0], call.text)
    elif call.kind == "announce":
        notifier.announce(call.platform, call.text)
    elif call.kind == "notify":
        notifier.message_person(call.platform, call.conversation_ref, call.text)
    elif call.kind == "review_approved":
        notifier.notify_team(cast(Team, call.team), call.text)
    else:
        notifier.remind(cast(Team, call.team), call.views)


def _case_ref(session: Session, case_id: int | None) -> str | None:
    case = None if case_id is None else session.get(CaseRow, case_id)
    return None if case is None else format_ref(case.team, case.number)
