"""The tables behind escalations, their notifications, feedback and the audit trail.

Alembic migrations in ``bot/storage/migrations/versions`` create these tables; a test compares the
migrated schema with this metadata so that the two cannot drift apart.

Times are stored in UTC and always come back timezone-aware, on SQLite too (see
:class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints let later migrations alter them (SQLite's batch mode needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always reads back timezone-aware.

    SQLite has no time zone type: without this, it would hand back naive datetimes and
    comparisons with aware ones would fail.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        value = value.astimezone(UTC)
        # SQLite stores text: keep it naive UTC so that string comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class CaseCounter(Base):
    """The last case number given out per team; one row per team, seeded by the migration."""

    __tablename__ = "case_counters"

    team: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class CaseRow(Base):
    """An escalated question. ``conversation_ref`` and, on anonymous cases, the asker's
    identity are internal: views for reviewers never carry them."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("team", "number", name="uq_cases_team_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    asker_id: Mapped[str] = mapped_column(String(255))
    asker_name: Mapped[str] = mapped_column(String(255), default="")
    conversation_ref: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)
    answer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    citations: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    waiting_since: Mapped[datetime]
    last_reminded_at: Mapped[datetime | None]


class CaseEventRow(Base):
    """One step in a case's history: who did what, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    by: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")


class OutboxRow(Base):
    """A notification written with the change that caused it and delivered afterwards."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(100), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    team: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class FeedbackRow(Base):
    """Helpful or not, on one answer; one row per rater and answer (a re-vote updates it)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("answer_id", "rater", name="uq_feedback_answer_id_rater"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(64), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    rater: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class AuditRow(Base):
    """What the bot told whom, from which version of the knowledge."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    answer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    asker: Mapped[str] = mapped_column(String(255))
    asker_pseudonymised: Mapped[bool] = mapped_column(Boolean)
    platform: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    answered: Mapped[bool] = mapped_column(Boolean)
    citations: Mapped[list[Any]] = mapped_column(JSON)
    escalation_suggested: Mapped[bool] = mapped_column(Boolean)
    escalation_team: Mapped[str | None] = mapped_column(String(20))
    escalation_reason: Mapped[str] = mapped_column(Text, default="")
    knowledge_version: Mapped[str] = mapped_column(String(64))
    latency_ms: Mapped[float] = mapped_column(Float)
    case_ref: Mapped[str | None] = mapped_column(String(16))
    llm_model: Mapped[str | None] = mapped_column(String(100))
    llm_prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    llm_completion_tokens: Mapped[int | None] = mapped_column(Integer)
    llm_latency_ms: Mapped[float | None] = mapped_column(Float)
    #: Why the extractive answer was given although a model was asked; None when it answered.
    llm_fallback: Mapped[str | None] = mapped_column(String(32))
    #: The answer id of the earlier question in the conversation that a follow-up was
    #: understood with; None for a question answered alone.
    context_answer_id: Mapped[str | None] = mapped_column(String(64))

    #: The approved answer served instead of one drawn from the documents, if any.
    approved_answer_id: Mapped[int | None] = mapped_column(Integer)


class PlatformStateRow(Base):
    """What every ``serve`` instance must know alike about the chat platforms (see
    :mod:`bot.platform_state`): event ids seen, threads answered, where case cards are,
    display names, opened chats and service URLs. One row per platform, kind and key."""

    __tablename__ = "platform_state"
    __table_args__ = (
        UniqueConstraint("platform", "kind", "key", name="uq_platform_state_platform_kind_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(index=True)


class AnnouncementRow(Base):
    """A policy-change announcement an admin confirmed: the changes after knowledge version
    ``since`` up to ``version``. One row per range, so that a second confirmation of the same
    preview (a double click, another instance) posts nothing."""

    __tablename__ = "announcements"
    __table_args__ = (UniqueConstraint("since", "version", name="uq_announcements_since_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    since: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64), index=True)
    by: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class ChangeNoticeRow(Base):
    """One direct message about one clause change to one person (their pseudonym): the
    unique constraint is what keeps anyone from hearing twice of one change."""

    __tablename__ = "change_notices"
    __table_args__ = (
        UniqueConstraint("person", "change_key", name="uq_change_notices_person_change_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person: Mapped[str] = mapped_column(String(64))
    change_key: Mapped[str] = mapped_column(String(64))
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]


class ContactRow(Base):
    """How to reach a person who asked in Slack or Teams, by the pseudonym the audit gives
    them; the address is encrypted with a key kept outside the database."""

    __tablename__ = "contacts"

    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(index=True)


class MuteRow(Base):
    """A person (by pseudonym) who asked not to hear of policy changes."""

    __tablename__ = "mutes"

    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]


class ApprovedAnswerRow(Base):
    """An answer a team's reviewer approved for a question (see :mod:`bot.approved.service`).

    ``clauses`` holds each cited clause as it stood when approved (source, section, title,
    text and its hash), so that a reload that changes one can say what changed. ``version``
    goes up by one with every change to the row: the sum over the table tells every instance
    that its cached answers are out of date. ``case_ref`` says where the answer came from;
    nothing of the case but what the reviewer approved is ever served.
    """

    __tablename__ = "approved_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    clauses: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    case_ref: Mapped[str | None] = mapped_column(String(16))
    approved_by: Mapped[str] = mapped_column(String(255))
    approved_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Why the answer is suspended or retired, and by whom; empty while active.
    reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
