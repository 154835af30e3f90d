"""The audit trail: what the bot told whom, from which version of the knowledge.

Askers are pseudonymised with a keyed hash (HMAC-SHA256): the same person gets the same
pseudonym, so compliance can see that one person asked five times, but an export of the table
does not say who, and without the key nobody can test a guessed id against it. The key is a
random 32-byte file, ``audit.key``, created once in the data directory with mode 0600. Every
process that writes the audit must read the same key file (on several hosts: copy it).

When a question becomes a case (not an anonymous one), its audit row gets the asker's real id:
the case holds it anyway, and HR needs to connect the two.

:func:`purge` applies ``POLICYBOT_RETENTION_DAYS`` to the audit, to feedback, to delivered
notifications and to the platform state (:mod:`bot.platform_state`). Cases are kept: they are
HR and Communications records, with their own retention under the Council's records policy,
and are closed, not deleted, here.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.approved.views import format_answer_id, parse_answer_id
from bot.case_views import format_ref
from bot.models import Answer, LLMUsage, Question
from bot.platform_state import purge_state
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import AuditRow, CaseRow, FeedbackRow, OutboxRow

log = logging.getLogger(__name__)

KEY_FILE = "audit.key"
PSEUDONYM_PREFIX = "anon:"


def load_or_create_key(data_dir: Path) -> bytes:
    """The pseudonymisation key in ``data_dir``, created (mode 0600) on first use.

    Several processes may start together: the key is written to a private temporary file
    and published with a hard link, which fails if another process published first, so every
    process ends up with the same complete key.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            tmp.unlink()
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 16:
        raise ValueError(f"{KEY_FILE} in the data directory is too short to be a key")
    return key


def pseudonymise(key: bytes, user_id: str) -> str:
    """A stable pseudonym for ``user_id`` (``anon:`` and 32 hex digits of HMAC-SHA256)."""
    digest = hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]


@dataclass(frozen=True)
class AuditEntry:
    """One audited question and answer, as exported."""

    at: datetime
    answer_id: str | None
    asker: str
    asker_pseudonymised: bool
    platform: str
    question: str
    answer: str
    answered: bool
    citations: tuple[dict[str, Any], ...]
    escalation: dict[str, Any]
    knowledge_version: str
    latency_ms: float
    case_id: str | None
    llm_model: str | None
    llm_prompt_tokens: int | None
    llm_completion_tokens: int | None
    llm_latency_ms: float | None
    llm_fallback: str | None
    #: The answer id of the earlier question a follow-up was understood with.
    context_answer_id: str | None = None
    #: The approved answer served (``A-0003``), or None for an answer from the documents.
    approved_answer: str | None = None

    def to_json(self) -> dict[str, Any]:
        """One ``policybot audit --json`` object."""
        data = {name: getattr(self, name) for name in CSV_FIELDS}
        data["at"] = self.at.isoformat()
        data["citations"] = list(self.citations)
        return data


CSV_FIELDS = tuple(AuditEntry.__dataclass_fields__)

#: A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every text cell that a spreadsheet would run as a formula (a question
    typed as ``=HYPERLINK(...)``) quoted by a leading apostrophe, so it shows as text."""
    return {
        key: f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value
        for key, value in row.items()
    }


def write_csv(entries: Iterable[AuditEntry], stream: IO[str]) -> None:
    """Write entries as CSV with a header; citations and escalation as JSON cells."""
    writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for entry in entries:
        row = entry.to_json()
        row["citations"] = json.dumps(row["citations"], ensure_ascii=False)
        row["escalation"] = json.dumps(row["escalation"], ensure_ascii=False)
        writer.writerow(spreadsheet_safe(row))


@dataclass(frozen=True)
class AuditRecord:
    """One audit row before it is written: what a spool file holds, a line each.

    ``asker`` is already the pseudonym: a spooled row never holds a real id.
    """

    at: datetime
    answer_id: str
    asker: str
    platform: str
    question: str
    answer: str
    answered: bool
    citations: tuple[dict[str, Any], ...]
    escalation_suggested: bool
    escalation_team: str | None
    escalation_reason: str
    knowledge_version: str
    latency_ms: float
    llm_model: str | None = None
    llm_prompt_tokens: int | None = None
    llm_completion_tokens: int | None = None
    llm_latency_ms: float | None = None
    llm_fallback: str | None = None
    context_answer_id: str | None = None
    approved_answer_id: int | None = None

    @classmethod
    def of(
        cls,
        question: Question,
        answer: Answer,
        *,
        asker: str,
        usage: LLMUsage | None,
        at: datetime,
    ) -> AuditRecord:
        return cls(
            at=at,
            answer_id=answer.id,
            asker=asker,
            platform=question.platform,
            question=question.text,
            answer=answer.text,
            answered=answer.answered,
            citations=tuple(citation.to_json() for citation in answer.citations),
            escalation_suggested=answer.escalation.suggested,
            escalation_team=answer.escalation.team,
            escalation_reason=answer.escalation.reason,
            knowledge_version=answer.knowledge_version,
            latency_ms=answer.elapsed_ms,
            llm_model=usage.model if usage else None,
            llm_prompt_tokens=usage.prompt_tokens if usage else None,
            llm_completion_tokens=usage.completion_tokens if usage else None,
            llm_latency_ms=usage.latency_ms if usage else None,
            llm_fallback=usage.fallback if usage else None,
            context_answer_id=answer.context_id or None,
            approved_answer_id=parse_answer_id(answer.approved.id) if answer.approved else None,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["citations"] = list(self.citations)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditRecord:
        """Read a spooled row back.

        Raises:
            KeyError, TypeError, ValueError: the data is not a spooled row.
        """
        fields = {**data, "at": datetime.fromisoformat(data["at"])}
        fields["citations"] = tuple(data["citations"])
        return cls(**fields)


class AuditLog:
    """Records every question and answer.

    Args:
        db: the database.
        key: the pseudonymisation key (:func:`load_or_create_key`).
        clock: the current UTC time (tests pass a fake).
    """

    def __init__(self, db: Database, *, key: bytes, clock: Clock = utcnow) -> None:
        self._db = db
        self._key = key
        self._clock = clock

    def pseudonym(self, user_id: str) -> str:
        """The pseudonym this log gives ``user_id``."""
        return pseudonymise(self._key, user_id)

    def record(
        self,
        question: Question,
        answer: Answer,
        *,
        latency_ms: float | None = None,
        knowledge_version: str | None = None,
        usage: LLMUsage | None = None,
    ) -> None:
        """Record one answered (or unanswered) question, now (:class:`AuditSpool` records
        without waiting).

        Args:
            question: the question as the adapter handed it over.
            answer: the core's answer; its ``id`` links feedback and cases to this row.
            latency_ms: time to answer; defaults to ``answer.elapsed_ms``.
            knowledge_version: defaults to ``answer.knowledge_version``.
            usage: the model, tokens, latency and fallback reason, when a model was asked.
        """
        record = self.prepare(question, answer, usage=usage)
        self.record_many(
            [
                replace(
                    record,
                    latency_ms=record.latency_ms if latency_ms is None else latency_ms,
                    knowledge_version=knowledge_version or record.knowledge_version,
                )
            ]
        )

    def prepare(
        self, question: Question, answer: Answer, *, usage: LLMUsage | None = None
    ) -> AuditRecord:
        """The row for one question, its asker already pseudonymised, timed now."""
        return AuditRecord.of(
            question, answer, asker=self.pseudonym(question.user_id), usage=usage, at=self._clock()
        )

    def record_many(self, records: Sequence[AuditRecord]) -> int:
        """Write rows in one transaction; an answer already recorded is not written again.

        A row whose answer has become a case that its own asker opened (not anonymously)
        gets the asker's real id and the case id, as :func:`link_case` gives rows written
        before the case.

        Returns:
            How many rows were written.
        """
        ids = {r.answer_id for r in records if r.answer_id}
        with self._db.session() as session:
            seen = (
                set(session.scalars(select(AuditRow.answer_id).where(AuditRow.answer_id.in_(ids))))
                if ids
                else set()
            )
            written = 0
            for record in records:
                if record.answer_id and record.answer_id in seen:
                    continue
                seen.add(record.answer_id)
                session.add(self._row(session, record))
                written += 1
        return written

    def _row(self, session: Session, record: AuditRecord) -> AuditRow:
        asker, case = record.asker, None
        opened = _case_for_answer(session, record.answer_id)
        if opened is not None and self.pseudonym(opened[0]) == record.asker:
            asker, case = opened
        return AuditRow(
            at=record.at,
            answer_id=record.answer_id or None,
            asker=asker,
            asker_pseudonymised=case is None,
            platform=record.platform,
            question=record.question,
            answer=record.answer,
            answered=record.answered,
            citations=list(record.citations),
            escalation_suggested=record.escalation_suggested,
            escalation_team=record.escalation_team,
            escalation_reason=record.escalation_reason,
            knowledge_version=record.knowledge_version,
            latency_ms=record.latency_ms,
            case_ref=case,
            llm_model=record.llm_model,
            llm_prompt_tokens=record.llm_prompt_tokens,
            llm_completion_tokens=record.llm_completion_tokens,
            llm_latency_ms=record.llm_latency_ms,
            llm_fallback=record.llm_fallback,
            context_answer_id=record.context_answer_id,
            approved_answer_id=record.approved_answer_id,
        )

    def find(self, answer_id: str) -> AuditEntry | None:
        """The entry of one answer, or None (never recorded, or purged)."""
        if not answer_id:
            return None
        query = select(AuditRow).where(AuditRow.answer_id == answer_id).limit(1)
        with self._db.reading() as session:
            row = session.scalars(query).first()
            return _entry(row) if row is not None else None

    def entries(self, since: datetime | None = None) -> list[AuditEntry]:
        """Audit entries, oldest first, optionally only those at or after ``since``."""
        query = select(AuditRow).order_by(AuditRow.at, AuditRow.id)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        with self._db.reading() as session:
            return [_entry(row) for row in session.scalars(query)]


def link_case(
    session: Session, *, answer_id: str, asker_id: str, case_ref: str, recorded_as: str
) -> None:
    """Give the audit rows of ``answer_id`` the asker's real id and the case id.

    Called by :class:`bot.cases.service.CaseService` in the transaction that opens a case that
    is not
    anonymous. Only rows recorded for this asker (``recorded_as``, their pseudonym) change:
    escalating a colleague's shared answer must not make the record say you asked it.
    """
    session.execute(
        update(AuditRow)
        .where(AuditRow.answer_id == answer_id, AuditRow.asker == recorded_as)
        .values(asker=asker_id, asker_pseudonymised=False, case_ref=case_ref)
    )


@dataclass(frozen=True)
class PurgeResult:
    """How many rows :func:`purge` deleted."""

    audit: int
    feedback: int
    deliveries: int
    cutoff: datetime | None
    #: Platform event ids, threads, card places, names... (see :mod:`bot.platform_state`).
    platform_state: int = 0


def purge(db: Database, retention_days: float, *, now: datetime | None = None) -> PurgeResult:
    """Delete audit rows, feedback, delivered notifications and platform state older than
    the retention, and platform event ids and conversations older than a day (whatever the
    retention).

    Args:
        db: the database.
        retention_days: ``POLICYBOT_RETENTION_DAYS``; 0 or less keeps everything but event ids.
        now: the current time (tests pass one).

    Returns:
        The counts deleted and the cutoff used. Cases and pending notifications are kept.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days) if retention_days > 0 else None
    with db.session() as session:
        state = purge_state(session, now=now, cutoff=cutoff)
        if cutoff is None:
            return PurgeResult(0, 0, 0, None, platform_state=state)
        counts = [
            session.execute(statement).rowcount  # type: ignore[attr-defined]
            for statement in (
                delete(AuditRow).where(AuditRow.at < cutoff),
                delete(FeedbackRow).where(FeedbackRow.updated_at < cutoff),
                delete(OutboxRow).where(OutboxRow.status != "pending", OutboxRow.sent_at < cutoff),
            )
        ]
    log.info(
        "purged %d audit, %d feedback, %d delivery, %d platform state rows before %s",
        *counts,
        state,
        cutoff,
    )
    return PurgeResult(int(counts[0]), int(counts[1]), int(counts[2]), cutoff, state)


def _case_for_answer(session: Session, answer_id: str) -> tuple[str, str] | None:
    """The asker and id of the (not anonymous) case opened on this answer, if any."""
    if not answer_id:
        return None
    case = session.scalars(
        select(CaseRow).where(CaseRow.answer_id == answer_id, CaseRow.anonymous.is_(False))
    ).first()
    if case is None:
        return None
    return case.asker_id, format_ref(case.team, case.number)


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        answer_id=row.answer_id,
        asker=row.asker,
        asker_pseudonymised=row.asker_pseudonymised,
        platform=row.platform,
        question=row.question,
        answer=row.answer,
        answered=row.answered,
        citations=tuple(row.citations or ()),
        escalation={
            "suggested": row.escalation_suggested,
            "team": row.escalation_team,
            "reason": row.escalation_reason,
        },
        knowledge_version=row.knowledge_version,
        latency_ms=row.latency_ms,
        case_id=row.case_ref,
        llm_model=row.llm_model,
        llm_prompt_tokens=row.llm_prompt_tokens,
        llm_completion_tokens=row.llm_completion_tokens,
        llm_latency_ms=row.llm_latency_ms,
        llm_fallback=row.llm_fallback,
        context_answer_id=row.context_answer_id,
        approved_answer=(
            format_answer_id(row.approved_answer_id) if row.approved_answer_id else None
        ),
    )
