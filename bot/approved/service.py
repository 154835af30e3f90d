"""Approved answers: reviewers keep their good replies, and the bot serves them again.

A reviewer of a case's team (or an admin) approves the reply they wrote on the case, or a new
text, for the case's question (or a question they word more generally), with the clauses it
rests on. A later question close in meaning (:mod:`bot.approved.match`) is answered with the
approved text, labelled with the team and the date, then the clauses it cites. Nothing of the
case is ever served but the approved text.

Life of an approved answer::

    active ──reload changes or removes a cited clause──▶ suspended ──reinstate──▶ active
       └───────────────── retire ──────────────────────────┴──▶ retired ──reinstate──┘

A suspension is queued to the team through the outbox in the same transaction (so it is told
exactly once, whichever instance noticed the change first), with the old and new clause text.
Who may act is checked here: the team's reviewers and the admins; refusals are worded for the
person (:mod:`bot.approved.views`).
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.approved.clauses import LiveClauses, changed, cited, latest_reply, resolve_clause
from bot.approved.views import (
    MAX_ANSWER,
    MAX_QUESTION,
    ApprovedView,
    CitedClause,
    ClauseError,
    format_answer_id,
    not_a_reviewer,
    parse_answer_id,
    parse_status,
    review_notice,
)
from bot.case_views import CaseView, check_length, parse_team
from bot.config import Settings
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Team
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import ApprovedAnswerRow, OutboxRow

log = logging.getLogger(__name__)

#: The outbox kind of a team's review notice.
REVIEW_KIND = "review_approved"

_changes_lock = threading.Lock()
_changes = 0


def local_changes() -> int:
    """A number that changes with every approved answer this process approves, retires,
    reinstates or suspends (after its transaction commits): an instance's cache sees its
    own changes at once, without asking the database (:mod:`bot.approved.match`)."""
    return _changes


def _changed_here() -> None:
    global _changes
    with _changes_lock:
        _changes += 1


class ApprovedAnswers:
    """Stores approved answers and moves them through their life, checking who may act.

    Args:
        db: the database.
        settings: the reviewers and admins.
        clock: the current UTC time (tests pass a fake).
    """

    def __init__(self, db: Database, settings: Settings, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

    def may_approve(self, person: str, team: Team) -> bool:
        """Whether ``person`` may approve, retire or reinstate the team's answers."""
        reviewers = self._settings.hr_reviewers if team == "hr" else self._settings.comms_reviewers
        return bool(person) and (person in reviewers or person in self._settings.admins)

    def check(self, team: Team, *, by: str, action: str = "approve") -> None:
        """Raise unless ``by`` may act on the team's approved answers.

        Raises:
            NotAuthorizedError: worded for the person.
        """
        if not self.may_approve(by.strip(), team):
            log.warning(
                "refused: %s may not %s approved answers of %s", by or "(nobody)", action, team
            )
            raise NotAuthorizedError(not_a_reviewer(team, action))

    def approve(
        self,
        case: CaseView,
        *,
        by: str,
        live: LiveClauses,
        text: str | None = None,
        question: str | None = None,
        clauses: Sequence[str] = (),
    ) -> ApprovedView:
        """Approve an answer for a case's question.

        Args:
            case: the case (as :meth:`bot.cases.service.CaseService.get` gives it).
            by: the reviewer's (or admin's) ``platform:user`` id.
            live: the live build's clauses, to quote the cited ones from.
            text: the approved text; default: the latest reply on the case.
            question: the question it answers, worded by the reviewer; default: the case's.
            clauses: ``DOC:SECTION`` of each clause it rests on; default: the clauses the
                bot's answer on the case cited.

        Raises:
            NotAuthorizedError: ``by`` is neither a reviewer of the case's team nor an admin.
            EscalationError: no text (no reply yet), no clause, an unknown clause, too long.
        """
        by = by.strip()
        self.check(case.team, by=by)
        body = (text if text is not None else latest_reply(case)).strip()
        if not body:
            raise EscalationError(
                f"{case.id} has no reply yet: reply first, or give the text to approve."
            )
        asked = (question or case.question).strip()
        check_length("The approved text", body, MAX_ANSWER)
        check_length("The question", asked, MAX_QUESTION)
        wanted = list(clauses) or [
            f"{c.get('source', '')}:{c.get('section', '')}" for c in case.citations
        ]
        if not wanted:
            raise ClauseError(
                "Name the clause(s) the answer rests on, as DOC:SECTION (e.g. "
                "electronic-communication-and-social-media-policy:4.3)."
            )
        cited = tuple(dict.fromkeys(resolve_clause(ref, live) for ref in wanted))
        now = self._clock()
        with self._db.session() as session:
            row = ApprovedAnswerRow(
                team=case.team,
                question=asked,
                text=body,
                clauses=[c.to_json() for c in cited],
                status="active",
                case_ref=case.id,
                approved_by=by,
                approved_at=now,
                updated_at=now,
                reason="",
                version=1,
            )
            session.add(row)
            session.flush()
            view = _view(row)
        _changed_here()
        log.info("%s approved %s for %s (from %s)", by, view.id, case.team, case.id)
        return view

    def get(self, answer_id: str) -> ApprovedView:
        """One approved answer.

        Raises:
            EscalationError: not an id, or no such answer.
        """
        with self._db.reading() as session:
            return _view(_load(session, answer_id))

    def list(
        self, team: str | None = None, status: str | None = None
    ) -> builtins.list[ApprovedView]:
        """Approved answers, oldest first, optionally of one team and one status."""
        query = select(ApprovedAnswerRow).order_by(ApprovedAnswerRow.id)
        if team:
            query = query.where(ApprovedAnswerRow.team == parse_team(team))
        if status:
            query = query.where(ApprovedAnswerRow.status == parse_status(status))
        with self._db.reading() as session:
            return [_view(row) for row in session.scalars(query)]

    def active(self) -> builtins.list[ApprovedView]:
        """The answers that may be served."""
        return self.list(status="active")

    def version(self) -> tuple[int, int]:
        """A number that changes with every change to any approved answer (rows and the sum
        of their versions): what an instance's cache checks before it is used."""
        with self._db.reading() as session:
            count, total = session.execute(
                select(func.count(), func.coalesce(func.sum(ApprovedAnswerRow.version), 0))
            ).one()
        return int(count or 0), int(total or 0)

    def retire(self, answer_id: str, *, by: str, reason: str = "") -> ApprovedView:
        """Withdraw an approved answer: it is no longer served.

        Raises:
            NotAuthorizedError: ``by`` may not act on the answer's team.
            EscalationError: unknown answer, or already retired.
        """
        by = by.strip()
        with self._db.session() as session:
            row = _load(session, answer_id, lock=True)
            self.check(parse_team(row.team), by=by, action="retire")
            if row.status == "retired":
                raise EscalationError(f"{format_answer_id(row.id)} is already retired.")
            _change(row, "retired", self._clock(), f"retired by {by}: {reason}".rstrip(": "))
            view = _view(row)
        _changed_here()
        log.info("%s retired %s", by, view.id)
        return view

    def reinstate(
        self, answer_id: str, *, by: str, live: LiveClauses, text: str | None = None
    ) -> ApprovedView:
        """Re-approve a suspended or retired answer after review, against the clauses as they
        now stand (optionally with a new text).

        Raises:
            NotAuthorizedError: ``by`` may not act on the answer's team.
            EscalationError: unknown or active answer, or a cited clause that no longer
                exists (approve a new answer instead).
        """
        by = by.strip()
        with self._db.session() as session:
            row = _load(session, answer_id, lock=True)
            ref = format_answer_id(row.id)
            self.check(parse_team(row.team), by=by, action="re-approve")
            if row.status == "active":
                raise EscalationError(f"{ref} is already active.")
            fresh = []
            for clause in _clauses(row):
                now_is = live.get(clause.key)
                if now_is is None:
                    raise EscalationError(
                        f"{ref} cites {clause.source} {clause.section}, which is no longer in "
                        "the documents: retire it and approve a new answer instead."
                    )
                fresh.append(cited(now_is))
            if text is not None and text.strip():
                check_length("The approved text", text.strip(), MAX_ANSWER)
                row.text = text.strip()
            now = self._clock()
            row.clauses = [c.to_json() for c in fresh]
            row.approved_by, row.approved_at = by, now
            _change(row, "active", now, "")
            view = _view(row)
        _changed_here()
        log.info("%s re-approved %s", by, view.id)
        return view

    def suspend_changed(
        self, live: LiveClauses, *, brief: bool = False
    ) -> builtins.list[ApprovedView]:
        """Suspend every active answer that cites a clause the live build changed or removed,
        and queue one review notice per team with the old and new text.

        Safe to run from several processes: each answer is taken by a conditional update, so
        it is suspended, and its team told, once. When no active answer is concerned (the
        usual case) nothing is written, and no write lock asked for.

        Args:
            live: the clauses of the live build.
            brief: give up at once when another process holds the write lock
                (:meth:`~bot.storage.db.Database.brief`), for a caller that must not wait.

        Returns:
            The answers suspended by this call.
        """
        with self._db.reading() as session:
            rows = session.scalars(
                select(ApprovedAnswerRow).where(ApprovedAnswerRow.status == "active")
            ).all()
            concerned = (changed(c, live.get(c.key)) for row in rows for c in _clauses(row))
            if all(change is None for change in concerned):
                return []
        now = self._clock()
        suspended: dict[Team, list[tuple[ApprovedView, list[tuple[str, str]]]]] = defaultdict(list)
        with self._db.brief() if brief else self._db.session() as session:
            rows = session.scalars(
                select(ApprovedAnswerRow).where(ApprovedAnswerRow.status == "active")
            ).all()
            for row in rows:
                changes = [changed(c, live.get(c.key)) for c in _clauses(row)]
                differing = [change for change in changes if change is not None]
                if not differing or not _take(session, row, now):
                    continue
                view = _view(row)
                suspended[view.team].append((view, differing))
            for team, items in suspended.items():
                _enqueue_review(session, team, review_notice(team, items), now)
        views = [view for items in suspended.values() for view, _ in items]
        if views:
            _changed_here()
        for view in views:
            log.info("suspended %s: a clause it cites changed", view.id)
        return views


def _clauses(row: ApprovedAnswerRow) -> list[CitedClause]:
    return [CitedClause.from_json(c) for c in row.clauses or ()]


def _take(session: Session, row: ApprovedAnswerRow, now: datetime) -> bool:
    """Suspend the row unless another process changed it first."""
    taken = session.execute(
        update(ApprovedAnswerRow)
        .where(
            ApprovedAnswerRow.id == row.id,
            ApprovedAnswerRow.status == "active",
            ApprovedAnswerRow.version == row.version,
        )
        .values(
            status="suspended",
            reason="a clause it cites changed; waiting for a reviewer",
            updated_at=now,
            version=row.version + 1,
        )
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(row)
    return True


def _change(row: ApprovedAnswerRow, status: str, now: datetime, reason: str) -> None:
    row.status, row.reason, row.updated_at = status, reason, now
    row.version += 1


def _enqueue_review(session: Session, team: Team, text: str, now: datetime) -> None:
    """Queue a review notice to the team, in the caller's transaction."""
    session.add(
        OutboxRow(
            kind=REVIEW_KIND,
            destination=f"team:{team}",
            case_id=None,
            team=team,
            payload={"text": text},
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )


def _load(session: Session, answer_id: str, *, lock: bool = False) -> ApprovedAnswerRow:
    number = parse_answer_id(answer_id)
    query = select(ApprovedAnswerRow).where(ApprovedAnswerRow.id == number)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise EscalationError(f"no approved answer {format_answer_id(number)}")
    return row


def _view(row: ApprovedAnswerRow) -> ApprovedView:
    return ApprovedView(
        id=format_answer_id(row.id),
        team=parse_team(row.team),
        question=row.question,
        text=row.text,
        clauses=tuple(_clauses(row)),
        status=parse_status(row.status),
        case_id=row.case_ref,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        updated_at=row.updated_at,
        reason=row.reason,
    )
