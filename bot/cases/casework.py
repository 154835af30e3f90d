"""Everything escalations need, wired once per process, and the SLA reminders.

``Casework.open(settings)`` gives the database (migrated), the case service, the outbox, the
audit log and feedback. A long-running process (``policybot serve``) calls
:meth:`Casework.tick` every minute or so with its notifier: it queues SLA reminders and
delivers what the outbox holds. The CLI has no chat platform, so it only queues.

SLA: a case that nobody has claimed (``open`` or ``reopened``) for ``POLICYBOT_SLA_HOURS``
plain elapsed hours is re-announced to its team, then again after each further period while it
stays unclaimed. Elapsed hours, not working hours: the rule is easy to state and to check, and
it needs no calendar of the Council's hours and holidays; a team that wants "one working day"
sets 24. ``POLICYBOT_SLA_HOURS=0`` turns reminders off.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from bot.approved.service import ApprovedAnswers
from bot.audit.contacts import ContactBook
from bot.audit.trail import AuditLog, PurgeResult, load_or_create_key, purge
from bot.case_views import WAITING, format_ref
from bot.cases.announcements import Announcements
from bot.cases.feedback import Feedback
from bot.cases.outbox import SYSTEM_ACTOR, FlushResult, Outbox, enqueue
from bot.cases.service import CaseService
from bot.config import Settings
from bot.models import Team
from bot.platform_state import DatabaseStateStore, PlatformState
from bot.ports import Notifier
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import CaseEventRow, CaseRow

log = logging.getLogger(__name__)

#: How often a long-running process applies ``POLICYBOT_RETENTION_DAYS``.
PURGE_EVERY = timedelta(days=1)


def queue_reminders(db: Database, settings: Settings, *, now: datetime) -> dict[Team, list[str]]:
    """Queue one reminder per team for its cases unclaimed past the SLA, once per period.

    Safe to run from several processes at once: each case is taken by a conditional
    update, so a case is in at most one reminder per period.

    Args:
        db: the database.
        settings: ``sla_hours``; 0 turns reminders off.
        now: the current UTC time.

    Returns:
        The ids of the cases reminded about, by team.
    """
    if settings.sla_hours <= 0:
        return {}
    cutoff = now - timedelta(hours=settings.sla_hours)
    overdue = (
        CaseRow.status.in_(WAITING),
        CaseRow.waiting_since <= cutoff,
        or_(CaseRow.last_reminded_at.is_(None), CaseRow.last_reminded_at <= cutoff),
    )
    reminded: dict[Team, list[CaseRow]] = defaultdict(list)
    with db.session() as session:
        for row in session.scalars(select(CaseRow).where(*overdue).order_by(CaseRow.id)).all():
            taken = session.execute(
                update(CaseRow).where(CaseRow.id == row.id, *overdue).values(last_reminded_at=now)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another process reminded about it a moment ago
            reminded["hr" if row.team == "hr" else "communications"].append(row)
            waited = (now - row.waiting_since).total_seconds() / 3600
            session.add(
                CaseEventRow(
                    case_id=row.id,
                    at=now,
                    by=SYSTEM_ACTOR,
                    action="reminded",
                    text=f"unclaimed for {waited:.0f} hours; the team was reminded",
                )
            )
        for rows in reminded.values():
            payload = {"case_ids": [row.id for row in rows]}
            enqueue(session, kind="remind", case=rows[0], now=now, payload=payload)
    result = {
        team: [format_ref(row.team, row.number) for row in rows] for team, rows in reminded.items()
    }
    for team, refs in result.items():
        log.info("reminding the %s team about %s", team, ", ".join(refs))
    return result


@dataclass
class Casework:
    """The escalation services of one process, sharing one database.

    Attributes:
        settings: the settings they were built from.
        db: the migrated database.
        cases: open and act on cases.
        outbox: deliver queued notifications.
        audit: record questions and answers.
        feedback: record and summarise votes.
        state: the platform state every instance shares (:mod:`bot.platform_state`).
        contacts: how to reach askers about policy changes, and who muted them.
        announcements: policy-change announcements and their direct messages.
        approved: the approved answers (:mod:`bot.approved.service`).
        clock: the current UTC time.
    """

    settings: Settings
    db: Database
    cases: CaseService
    outbox: Outbox
    audit: AuditLog
    feedback: Feedback
    state: PlatformState
    contacts: ContactBook
    announcements: Announcements
    approved: ApprovedAnswers
    clock: Clock = utcnow
    #: When this process last applied the retention (``tick`` does it once a day).
    purged_at: datetime | None = field(default=None, init=False)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utcnow) -> Casework:
        """Open (and migrate) the database and build the services.

        Raises:
            ConfigError: ``DATABASE_URL`` is invalid.
        """
        db = Database.open(settings)
        key = load_or_create_key(settings.data_dir)
        audit = AuditLog(db, key=key, clock=clock)
        contacts = ContactBook(db, key=key, clock=clock)
        return cls(
            settings=settings,
            db=db,
            cases=CaseService(db, settings, clock=clock, pseudonym=audit.pseudonym),
            outbox=Outbox(db, clock=clock),
            audit=audit,
            feedback=Feedback(db, key=key, clock=clock),
            state=PlatformState(DatabaseStateStore(db, clock=clock)),
            contacts=contacts,
            announcements=Announcements(db, settings, contacts, clock=clock),
            approved=ApprovedAnswers(db, settings, clock=clock),
            clock=clock,
        )

    def remind(self) -> dict[Team, list[str]]:
        """Queue SLA reminders now (see :func:`queue_reminders`)."""
        return queue_reminders(self.db, self.settings, now=self.clock())

    def tick(self, notifier: Notifier) -> FlushResult:
        """Queue due reminders, deliver what is pending and, once a day, apply the
        retention; call it on a timer. Several processes may each purge: it is idempotent."""
        self.remind()
        now = self.clock()
        if self.purged_at is None or now - self.purged_at >= PURGE_EVERY:
            self.purged_at = now
            self.purge()
        return self.outbox.flush(notifier)

    def purge(self) -> PurgeResult:
        """Apply ``POLICYBOT_RETENTION_DAYS`` (see :func:`bot.audit.trail.purge`), and forget
        askers' addresses older than ``POLICYBOT_NOTIFY_DAYS``: nobody that old is told."""
        self.contacts.purge(timedelta(days=self.settings.notify_days))
        return purge(self.db, self.settings.retention_days, now=self.clock())

    def close(self) -> None:
        """Write what platform state waits (briefly), and release the database connections."""
        self.state.close()
        self.db.close()
