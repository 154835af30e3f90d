"""How cases are stored: loading and locking rows, numbering, anonymising.

The SQL side of :class:`bot.cases.service.CaseService`, kept apart so that the service reads as the
steps of a case's life.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.audit.trail import link_case, load_or_create_key, pseudonymise
from bot.case_views import CaseRequest, format_ref, parse_ref
from bot.config import Settings
from bot.errors import EscalationError
from bot.storage.models import AuditRow, CaseCounter, CaseEventRow, CaseRow


def anonymise(session: Session, row: CaseRow, ref: str, settings: Settings) -> None:
    """Withhold the asker from now on: the flag, the events, and the audit rows' link."""
    row.anonymous = True
    session.execute(
        update(CaseEventRow)
        .where(CaseEventRow.case_id == row.id, CaseEventRow.by == row.asker_id)
        .values(by=None)
    )
    # The same keyed pseudonym the audit gave before the case linked it (see bot.audit.trail).
    pseudonym = pseudonymise(load_or_create_key(settings.data_dir), row.asker_id)
    session.execute(
        update(AuditRow)
        .where(AuditRow.case_ref == ref, AuditRow.asker == row.asker_id)
        .values(asker=pseudonym, asker_pseudonymised=True, case_ref=None)
    )


def load(session: Session, case_id: str, *, lock: bool = False) -> CaseRow:
    team, number = parse_ref(case_id)
    query = select(CaseRow).where(CaseRow.team == team, CaseRow.number == number)
    if lock:
        # Two reviewers clicking Claim at once: the second waits here, then sees it claimed.
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise EscalationError(f"no case {format_ref(team, number)}")
    return row


def record_opening(
    session: Session,
    row: CaseRow,
    request: CaseRequest,
    now: datetime,
    *,
    pseudonym: Callable[[str], str] | None,
) -> None:
    """The case's first event, and the link from the answer's audit row to the case (only for
    the answer its own asker received, and never for an anonymous case)."""
    by = None if request.anonymous else request.asker
    session.add(CaseEventRow(case_id=row.id, at=now, by=by, action="opened", text=request.note))
    if request.answer_id and not request.anonymous and pseudonym is not None:
        link_case(
            session,
            answer_id=request.answer_id,
            asker_id=request.asker,
            case_ref=ref(row),
            recorded_as=pseudonym(request.asker),
        )


def lock_counter(session: Session, team: str) -> None:
    # A concurrent click waits here for the team's counter row (PostgreSQL; SQLite took its
    # write lock at BEGIN), then finds the case the first click opened.
    session.execute(
        select(CaseCounter.last_number).where(CaseCounter.team == team).with_for_update()
    )


def earlier_case(session: Session, request: CaseRequest) -> CaseRow | None:
    """The case the asker opened from the same answer (or question) for the same team."""
    same = (CaseRow.team == request.team, CaseRow.asker_id == request.asker)
    if request.answer_id:
        query = select(CaseRow).where(*same, CaseRow.answer_id == request.answer_id)
    else:
        query = select(CaseRow).where(
            *same, CaseRow.answer_id.is_(None), CaseRow.question == request.question
        )
    return session.scalars(query.order_by(CaseRow.id).limit(1)).first()


def ref(row: CaseRow) -> str:
    return format_ref(row.team, row.number)


def next_number(session: Session, team: str) -> int:
    # One row per team, incremented under its row lock (PostgreSQL) or the database's write
    # lock (SQLite, BEGIN IMMEDIATE): numbers are unique and gapless across processes, and a
    # rolled-back open gives its number back.
    return session.execute(
        update(CaseCounter)
        .where(CaseCounter.team == team)
        .values(last_number=CaseCounter.last_number + 1)
        .returning(CaseCounter.last_number)
    ).scalar_one()


def new_case(session: Session, request: CaseRequest, number: int, now: datetime) -> CaseRow:
    row = CaseRow(
        team=request.team,
        number=number,
        status="open",
        platform=request.asker.partition(":")[0],
        asker_id=request.asker,
        asker_name=request.display_name.strip(),
        conversation_ref=request.conversation,
        question=request.question,
        answer_id=request.answer_id or None,
        answer_text=request.answer,
        citations=list(request.citations),
        note=request.note,
        anonymous=request.anonymous,
        claimed_by=None,
        created_at=now,
        updated_at=now,
        waiting_since=now,
        last_reminded_at=None,
    )
    session.add(row)
    session.flush()
    return row
