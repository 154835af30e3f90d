"""What adapters give to open a case (:class:`CaseRequest`), what reviewers and adapters see
of one (:class:`CaseView`), and case ids.

A view never carries the conversation reference, and on an anonymous case it carries neither
the asker's id nor their name, nor their id on the events they caused. Everything a reviewer
or an adapter shows is built from a view, so there is one place where anonymity is enforced.

Case ids are the team's prefix and a per-team number, ``HR-0042`` or ``COM-0007``: short
enough to read out on the phone, and telling at a glance whose case it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import EscalationError
from bot.models import TEAMS, Answer, Question, Team
from bot.storage.models import CaseEventRow, CaseRow, OutboxRow

Status = Literal["open", "claimed", "answered", "resolved", "reopened"]
STATUSES: tuple[Status, ...] = ("open", "claimed", "answered", "resolved", "reopened")
WAITING: tuple[Status, ...] = ("open", "reopened")
"""Statuses in which nobody has the case: these are the ones SLA reminders chase."""
LIVE: tuple[Status, ...] = ("open", "reopened", "claimed", "answered")
"""Statuses in which the team still has something to do."""

CaseAction = Literal["claim", "reply", "resolve", "reopen"]
ACTIONS: dict[Status, tuple[CaseAction, ...]] = {
    "open": ("claim", "reply"),
    "reopened": ("claim", "reply"),
    "claimed": ("reply", "resolve"),
    "answered": ("reply", "resolve"),
    "resolved": ("reopen",),
}
"""What reviewers are offered on a case in each status, in the order shown: every platform
draws these buttons and no others (a reply on an unclaimed case claims it)."""

MAX_TEXT = 8000
"""The longest question or reply a case takes, in characters."""
MAX_NOTE = 2000
"""The longest note or reason."""
CARD_REPLIES = 5
"""The most replies a case card shows, the latest (it says how many earlier ones it leaves
out); a platform that runs out of room shows fewer."""
THREAD_REPLIES = frozenset({"slack"})
"""The platforms where a reply may also go to the thread the asker asked in; elsewhere it
goes to their personal chat only."""

PREFIXES: dict[Team, str] = {"hr": "HR", "communications": "COM"}
_REF = re.compile(r"^\s*([A-Za-z]+)-0*(\d{1,9})\s*$")


def format_ref(team: str, number: int) -> str:
    """``HR-0042`` for case 42 of HR."""
    return f"{PREFIXES[cast(Team, team)]}-{number:04d}"


def parse_ref(ref: str) -> tuple[Team, int]:
    """The team and number of a case id; ``hr-42`` and ``HR-0042`` are the same case.

    Raises:
        EscalationError: not a case id.
    """
    match = _REF.match(ref)
    if match:
        prefix, number = match.group(1).upper(), int(match.group(2))
        for team, known in PREFIXES.items():
            if known == prefix:
                return team, number
    raise EscalationError(f"{ref!r} is not a case id (they look like HR-0042 or COM-0007)")


def parse_team(name: str) -> Team:
    """A team from what a person typed: ``hr``, ``communications`` or ``comms``.

    Raises:
        EscalationError: no such team.
    """
    key = name.strip().lower()
    if key in {"comms", "com"}:
        key = "communications"
    if key not in TEAMS:
        raise EscalationError(f"unknown team {name!r}: use hr or communications")
    return key


def check_length(what: str, text: str, limit: int) -> None:
    """Raise :class:`EscalationError` when ``text`` is longer than ``limit`` characters."""
    if len(text) > limit:
        raise EscalationError(f"{what} is too long ({len(text):,} characters; at most {limit:,})")


def parse_status(name: str) -> Status:
    """A case status by name.

    Raises:
        EscalationError: no such status.
    """
    key = name.strip().lower()
    if key not in STATUSES:
        raise EscalationError(f"unknown status {name!r}: use one of {', '.join(STATUSES)}")
    return key


@dataclass(frozen=True)
class CaseEvent:
    """One step of a case's history. ``by`` is None for an anonymous asker."""

    at: datetime
    by: str | None
    action: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "by": self.by, "action": self.action, "text": self.text}


@dataclass(frozen=True)
class CaseView:
    """A case as reviewers, adapters and the CLI see it.

    Attributes:
        id: the case id, ``HR-0042``.
        team: ``hr`` or ``communications``.
        status: open, claimed, answered, resolved or reopened.
        platform: where the asker asked (``slack``, ``teams``, ``cli``); not an identity,
            it tells a notifier which platform delivers the reply.
        question: the question as asked.
        asker: the asker's ``platform:user`` id; None on an anonymous case.
        asker_name: the asker's display name; None on an anonymous case.
        anonymous: the asker asked for their identity to be withheld.
        answer: what the bot had answered, if anything.
        citations: the clauses that answer cited (``Citation.to_json`` objects).
        note: what the asker added when escalating.
        claimed_by: the reviewer who has the case, if anyone.
        created_at: when it was opened (UTC).
        updated_at: when it last changed (UTC).
        events: the history, oldest first.
        pending_deliveries: notifications about this case not yet delivered.
        announcing: the team's card is queued and not yet posted (held for the asker's
            choice, or on its way): when it goes, it shows the case as it is then.
    """

    id: str
    team: Team
    status: Status
    platform: str
    question: str
    asker: str | None
    asker_name: str | None
    anonymous: bool
    answer: str
    citations: tuple[dict[str, Any], ...]
    note: str
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime
    events: tuple[CaseEvent, ...]
    pending_deliveries: int = 0
    announcing: bool = False

    @property
    def actions(self) -> tuple[CaseAction, ...]:
        """The steps a reviewer is offered now (:data:`ACTIONS`), for every platform's card."""
        return ACTIONS[self.status]

    @property
    def claimer(self) -> str | None:
        """Who has the case now, as its card shows: nobody while it waits for a reviewer."""
        return self.claimed_by if self.status not in WAITING else None

    @property
    def replies(self) -> tuple[CaseEvent, ...]:
        """The reviewers' replies so far, oldest first: every platform's card shows them."""
        return tuple(event for event in self.events if event.action == "replied")

    @property
    def reply_on_its_way(self) -> bool:
        """A reply was sent and waits to be delivered to the asker (every card says so)."""
        return self.status == "answered" and self.pending_deliveries > 0

    @property
    def reply_in_public(self) -> bool:
        """A reply may also go where the asker asked in public (a Slack channel thread),
        besides their private chat: never on an anonymous case, where it would show everyone
        there who asked, and never in Teams, whose replies go to the personal chat only (as
        the reply form says, :func:`bot.forms.reply_hint`)."""
        return not self.anonymous and self.platform in THREAD_REPLIES

    def to_json(self) -> dict[str, Any]:
        """The case as one JSON object (``escalations show --json``)."""
        return {
            "id": self.id,
            "team": self.team,
            "status": self.status,
            "platform": self.platform,
            "question": self.question,
            "asker": self.asker,
            "asker_name": self.asker_name,
            "anonymous": self.anonymous,
            "answer": self.answer,
            "citations": list(self.citations),
            "note": self.note,
            "claimed_by": self.claimed_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "events": [event.to_json() for event in self.events],
            "pending_deliveries": self.pending_deliveries,
        }


def build_view(session: Session, row: CaseRow) -> CaseView:
    """The reviewer-facing view of a stored case (anonymity applied here)."""
    events = session.scalars(
        select(CaseEventRow).where(CaseEventRow.case_id == row.id).order_by(CaseEventRow.id)
    ).all()
    pending = dict(
        session.execute(
            select(OutboxRow.kind, func.count())
            .where(OutboxRow.case_id == row.id, OutboxRow.status == "pending")
            .group_by(OutboxRow.kind)
        ).all()
    )
    return CaseView(
        id=format_ref(row.team, row.number),
        team=cast(Team, row.team),
        status=cast(Status, row.status),
        platform=row.platform,
        question=row.question,
        asker=None if row.anonymous else row.asker_id,
        asker_name=None if row.anonymous else row.asker_name,
        anonymous=row.anonymous,
        answer=row.answer_text,
        citations=tuple(row.citations or ()),
        note=row.note,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        events=tuple(_event(row, event) for event in events),
        pending_deliveries=sum(pending.values()),
        announcing=bool(pending.get("post_case")),
    )


def _event(row: CaseRow, event: CaseEventRow) -> CaseEvent:
    # Events are stored without the asker's id on anonymous cases; this is a second guard.
    by = None if row.anonymous and event.by == row.asker_id else event.by
    return CaseEvent(at=event.at, by=by, action=event.action, text=event.text)


@dataclass(frozen=True)
class CaseRequest:
    """What opening a case needs; :meth:`from_answer` builds one from a chat exchange.

    Attributes:
        team: ``hr`` or ``communications``.
        asker: the asker's ``platform:user`` id (``slack:U123``, ``teams:29:abc``, ``cli:jo``).
        question: the question to hand over.
        display_name: the asker's name as the platform shows it.
        conversation: an opaque reference the adapter needs to reach the asker again.
        answer: what the bot answered, if anything.
        citations: the clauses that answer cited (``Citation.to_json`` objects).
        answer_id: the ``Answer.id``; links the case to the audit row.
        note: what the asker added for the team.
        anonymous: withhold the asker's identity from reviewers.
    """

    team: str
    asker: str
    question: str
    display_name: str = ""
    conversation: str = ""
    answer: str = ""
    citations: tuple[dict[str, object], ...] = ()
    answer_id: str = ""
    note: str = ""
    anonymous: bool = False

    @classmethod
    def from_answer(
        cls,
        team: Team,
        question: Question,
        answer: Answer,
        *,
        note: str = "",
        anonymous: bool = False,
    ) -> CaseRequest:
        """A request for the question an adapter received and the answer the core gave."""
        return cls(
            team=team,
            asker=question.user_id,
            question=answer.question or question.text,
            display_name=question.display_name,
            conversation=question.conversation,
            answer=answer.text,
            citations=tuple(citation.to_json() for citation in answer.citations),
            answer_id=answer.id,
            note=note,
            anonymous=anonymous,
        )

    def cleaned(self) -> CaseRequest:
        """The request trimmed and checked.

        Raises:
            EscalationError: unknown team, no question, an asker that is not
                ``platform:user``, or text over the limits.
        """
        team = parse_team(self.team)
        asker = self.asker.strip()
        platform, _, user = asker.partition(":")
        if not platform or not user:
            raise EscalationError(
                f"asker must be a platform:user id such as slack:U123, not {asker!r}"
            )
        question = self.question.strip()
        if not question:
            raise EscalationError("a case needs a question")
        check_length("the question", question, MAX_TEXT)
        check_length("the note", self.note.strip(), MAX_NOTE)
        return replace(self, team=team, asker=asker, question=question, note=self.note.strip())
