"""Policy-change announcements: a summary for the announcement channels, and one direct
message per changed clause to the staff whose answers rested on it.

An admin previews the announcement of the changes since a knowledge version (by default,
since the last one announced; for the first, the last reload's), then confirms it. Confirming
is one transaction: the announcement is recorded (one per range of versions, so a second
confirmation of the same preview posts nothing), its posts to ``SLACK_ANNOUNCE_CHANNEL`` and
``TEAMS_ANNOUNCE_CHANNEL`` and the direct messages are queued in the outbox, and each direct
message is recorded as a notice for one person and one change, under a unique constraint: a
restart mid-send, another instance or another announcement never tells anyone twice.

Who is told: people who asked, in the last ``POLICYBOT_NOTIFY_DAYS`` (default 30; 0 tells
nobody) and before the reload that changed it, a question whose answer cited a clause since
changed or removed; who can be reached (they asked in Slack or Teams, see
:mod:`bot.audit.contacts`); who has not muted these messages. The message names the clause, not
their question, and goes to them alone (:mod:`bot.cases.notices`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.audit.contacts import ContactBook
from bot.cases.notices import Audience, Notice, audience
from bot.cases.outbox import enqueue_message
from bot.config import Settings
from bot.errors import AnnouncementError, NotAuthorizedError
from bot.knowledge.changes import ChangeSet, ClauseChange, read_log
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import AnnouncementRow, ChangeNoticeRow

log = logging.getLogger(__name__)

#: Changes listed in an announcement; the rest are counted.
SHOWN_CHANGES = 30
NOT_ADMIN = "Sorry, only PolicyBot admins can announce policy changes."
CANCELLED = "Nothing was announced."


@dataclass(frozen=True)
class Preview:
    """What confirming would announce.

    Attributes:
        since: the knowledge version the changes follow.
        version: the knowledge version they lead to (what is recorded as announced).
        sets: the reloads' change sets, oldest first.
        channels: the platforms whose announcement channel gets the post.
        audience: the direct messages, counted (nobody is named).
        announced: this range was announced before.
    """

    since: str
    version: str
    sets: tuple[ChangeSet, ...]
    channels: tuple[str, ...]
    audience: Audience = field(default_factory=Audience)
    announced: bool = False

    @property
    def changes(self) -> tuple[ClauseChange, ...]:
        return tuple(change for s in self.sets for change in s.changes)

    @property
    def confirmable(self) -> bool:
        """There is news not announced before: the preview offers Confirm and Cancel."""
        return bool(self.changes) and not self.announced

    @property
    def text(self) -> str:
        """The announcement as posted (neutral markdown)."""
        return announcement_text(self.sets)

    def summary(self) -> str:
        """For the admin: what would be posted where, and how many people hear directly."""
        lines = [self.text, ""]
        if not self.changes:
            return (
                f"Nothing to announce: no clause has changed since knowledge version {self.since}."
            )
        where = " and ".join(c.title() for c in self.channels)
        lines.append(
            f"To be posted in the announcement channel on {where}."
            if where
            else "No announcement channel is set (SLACK_ANNOUNCE_CHANNEL, TEAMS_ANNOUNCE_CHANNEL): "
            "only the direct messages are sent."
        )
        counts = self.audience.to_json()
        lines.append(
            f"{_count(counts['messages'], 'direct message')} to "
            f"{_count(counts['people'], 'person', 'people')} whose answers rested on these "
            f"clauses ({counts['unreachable']} cannot be reached, {counts['muted']} muted, "
            f"{counts['already_told']} told before)."
        )
        if self.announced:
            lines.append(f"Already announced: versions {self.since} to {self.version}.")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "version": self.version,
            "text": self.text,
            "changes": [{**vars(c), "summary": c.summary} for c in self.changes],
            "channels": list(self.channels),
            "notifications": self.audience.to_json(),
            "announced": self.announced,
        }


@dataclass(frozen=True)
class Announced:
    """A confirmed announcement: its preview, its id, and the messages queued."""

    preview: Preview
    id: int
    by: str
    messages: int

    def summary(self) -> str:
        """For the admin: what was queued."""
        where = " and ".join(c.title() for c in self.preview.channels)
        post = (
            f"the post for the announcement channel on {where}"
            if where
            else "no post (no announcement channel is set)"
        )
        return (
            f"Announced the changes up to knowledge version {self.preview.version}: {post} and "
            f"{_count(self.messages, 'direct message')} queued."
        )

    def to_json(self) -> dict[str, Any]:
        return {**self.preview.to_json(), "announced": True, "id": self.id, "by": self.by}


class Announcements:
    """Previews and confirms announcements (see the module docstring).

    Args:
        db: the database.
        settings: the admins, the announcement channels, ``notify_days``, the index.
        contacts: addresses and mutes.
        clock: the current UTC time.
    """

    def __init__(
        self, db: Database, settings: Settings, contacts: ContactBook, *, clock: Clock = utcnow
    ) -> None:
        self._db = db
        self._settings = settings
        self._contacts = contacts
        self._clock = clock

    def last_announced(self) -> str | None:
        """The knowledge version the latest announcement led to, or None."""
        with self._db.reading() as session:
            return session.scalars(
                select(AnnouncementRow.version).order_by(AnnouncementRow.id.desc()).limit(1)
            ).first()

    def preview(self, since: str | None = None, *, by: str | None = None) -> Preview:
        """The announcement of the changes after ``since`` (default: see the module).

        Args:
            since: a knowledge version in the change log.
            by: who asks, checked against the admins (None: the command line's own preview).

        Raises:
            NotAuthorizedError: ``by`` is not an admin.
            AnnouncementError: ``since`` is not a knowledge version in the change log.
        """
        if by is not None:
            self._check_admin(by)
        sets, start = self._sets(since)
        version = sets[-1].version if sets else start
        with self._db.reading() as session:
            audience = self._audience(session, sets)
            done = session.scalars(
                select(AnnouncementRow.id).where(
                    AnnouncementRow.since == start, AnnouncementRow.version == version
                )
            ).first()
        return Preview(start, version, tuple(sets), self._channels(), audience, done is not None)

    def confirm(
        self, by: str, *, since: str | None = None, version: str | None = None
    ) -> Announced:
        """Announce: record it, queue the posts and the direct messages (one transaction).

        Args:
            by: the admin's ``platform:user`` id.
            since: as for :meth:`preview`.
            version: the version the admin's preview led to; a newer reload since then
                refuses the confirmation, so that nobody announces what they did not see.

        Raises:
            NotAuthorizedError: ``by`` is not an admin.
            AnnouncementError: nothing to announce, the documents changed since the preview,
                or this announcement was confirmed already.
        """
        self._check_admin(by)
        sets, start = self._sets(since)
        if not sets or not any(s.changes for s in sets):
            raise AnnouncementError(
                f"Nothing to announce: no clause has changed since knowledge version {start}."
            )
        if version and version != sets[-1].version:
            raise AnnouncementError(
                f"The documents have changed again since that preview (now knowledge version "
                f"{sets[-1].version}): please preview the announcement again."
            )
        preview = Preview(start, sets[-1].version, tuple(sets), self._channels())
        now = self._clock()
        try:
            with self._db.session() as session:
                row = AnnouncementRow(
                    since=start, version=preview.version, by=by, at=now, text=preview.text
                )
                session.add(row)
                session.flush()  # the unique range: a second confirmation stops here
                for platform in preview.channels:
                    payload = {"platform": platform, "text": preview.text}
                    enqueue_message(
                        session,
                        kind="announce",
                        destination=f"announce:{platform}",
                        now=now,
                        payload=payload,
                    )
                audience = self._audience(session, sets)
                for notice in audience.notices:
                    self._queue_notice(session, notice, row.id, now)
                announced = Announced(
                    Preview(start, preview.version, tuple(sets), preview.channels, audience),
                    row.id,
                    by,
                    len(audience.notices),
                )
        except IntegrityError:
            raise AnnouncementError(
                f"The changes up to knowledge version {preview.version} were announced "
                f"already (or a moment ago by another admin): nothing was sent twice."
            ) from None
        log.info(
            "announcement %d by %s: versions %s to %s, %d direct messages",
            announced.id,
            by,
            start,
            preview.version,
            announced.messages,
        )
        return announced

    def _check_admin(self, by: str) -> None:
        if by not in self._settings.admins:
            log.warning("announcement refused for %s: not an admin", by)
            raise NotAuthorizedError(NOT_ADMIN)

    def _sets(self, since: str | None) -> tuple[list[ChangeSet], str]:
        """The change sets to announce and the version they follow."""
        index_dir = self._settings.index_dir
        start = since if since is not None else self.last_announced()
        try:
            sets = read_log(index_dir, start)
        except LookupError:
            if since is not None:
                raise AnnouncementError(
                    f"Knowledge version {since[:64]} is not in the change log: "
                    "`policybot changes --since` takes the versions it holds."
                ) from None
            sets, start = read_log(index_dir), None  # the announced version left the log
        if start is None:
            start = sets[0].previous_version if sets else ""
        return sets, start

    def _channels(self) -> tuple[str, ...]:
        """The platforms switched on that have an announcement channel."""
        settings = self._settings
        channels = {
            "slack": settings.slack.announce_channel if "slack" in settings.platforms else "",
            "teams": settings.teams.announce_channel if "teams" in settings.platforms else "",
        }
        return tuple(name for name, channel in channels.items() if channel)

    def _audience(self, session: Session, sets: list[ChangeSet]) -> Audience:
        days = self._settings.notify_days
        if days <= 0 or not sets:
            return Audience()
        since = self._clock() - timedelta(days=days)
        return audience(session, sets, self._contacts, since=since)

    def _queue_notice(
        self, session: Session, notice: Notice, announcement: int, now: datetime
    ) -> None:
        session.add(
            ChangeNoticeRow(
                person=notice.contact.person,
                change_key=notice.key,
                announcement_id=announcement,
                at=now,
            )
        )
        session.flush()  # the unique person and change: a race with another instance stops here
        payload = {
            "person": notice.contact.person,
            "platform": notice.contact.platform,
            "address": notice.contact.address,
            "text": notice.text,
        }
        enqueue_message(
            session,
            kind="notify",
            destination=f"person:{notice.contact.person}",
            now=now,
            payload=payload,
        )


def announcement_text(sets: tuple[ChangeSet, ...] | list[ChangeSet]) -> str:
    """The post for the announcement channels: the changed clauses, a line each."""
    changes = [change for s in sets for change in s.changes]
    if not sets:
        return "No policy clause has changed."
    made = datetime.fromisoformat(sets[-1].at)
    when = f"{made.day} {made:%B %Y}"
    lines = [f"**Policy update ({when}): what changed**", ""]
    lines += [f"- {change.summary}" for change in changes[:SHOWN_CHANGES]]
    if len(changes) > SHOWN_CHANGES:
        lines.append(f"- and {len(changes) - SHOWN_CHANGES} more changes")
    lines += ["", "Ask PolicyBot about any of these for the clause in full."]
    return "\n".join(lines)


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"
