"""Feedback on answers: helpful or not, with an optional comment, by answer id.

A rater is stored only as a pseudonym (the audit's keyed hash), and only so that a second
click by the same person changes their vote instead of counting twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.audit.trail import pseudonymise
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import AuditRow, FeedbackRow

MAX_COMMENT = 2000


@dataclass(frozen=True)
class FeedbackComment:
    """A comment left with a vote, and the question it was about (when still audited)."""

    answer_id: str
    helpful: bool
    comment: str
    at: datetime
    question: str

    def to_json(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id,
            "helpful": self.helpful,
            "comment": self.comment,
            "at": self.at.isoformat(),
            "question": self.question,
        }


@dataclass(frozen=True)
class FeedbackSummary:
    """Counts of votes and the comments, newest first."""

    helpful: int
    not_helpful: int
    comments: tuple[FeedbackComment, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``policybot feedback --json`` object."""
        return {
            "helpful": self.helpful,
            "not_helpful": self.not_helpful,
            "total": self.helpful + self.not_helpful,
            "comments": [comment.to_json() for comment in self.comments],
        }


class Feedback:
    """Records and summarises feedback.

    Args:
        db: the database.
        key: the pseudonymisation key; without one, votes are never merged per rater.
        clock: the current UTC time (tests pass a fake).
    """

    def __init__(self, db: Database, *, key: bytes | None = None, clock: Clock = utcnow) -> None:
        self._db = db
        self._key = key
        self._clock = clock

    def record(self, answer_id: str, helpful: bool, *, comment: str = "", rater: str = "") -> None:
        """Record a vote on an answer; the same rater voting again replaces their vote.

        Args:
            answer_id: the ``Answer.id`` the buttons carried.
            helpful: True for helpful, False for not helpful.
            comment: optional; cut to 2,000 characters.
            rater: the voter's ``platform:user`` id, stored only as a pseudonym.

        Raises:
            ValueError: no answer id.
        """
        if not answer_id.strip():
            raise ValueError("feedback needs the id of the answer it is about")
        pseudonym = pseudonymise(self._key, rater) if rater and self._key else None
        try:
            self._upsert(answer_id.strip(), helpful, comment.strip()[:MAX_COMMENT], pseudonym)
        except IntegrityError:
            # The same rater's double click raced itself on PostgreSQL: the row exists now.
            self._upsert(answer_id.strip(), helpful, comment.strip()[:MAX_COMMENT], pseudonym)

    def summary(self, since: datetime | None = None) -> FeedbackSummary:
        """Counts of helpful and not helpful votes, and every comment, newest first."""
        with self._db.reading() as session:
            counts = select(FeedbackRow.helpful, func.count()).group_by(FeedbackRow.helpful)
            comments = (
                select(FeedbackRow, AuditRow.question)
                .outerjoin(AuditRow, AuditRow.answer_id == FeedbackRow.answer_id)
                .where(FeedbackRow.comment != "")
                .order_by(FeedbackRow.updated_at.desc(), FeedbackRow.id.desc())
            )
            if since is not None:
                counts = counts.where(FeedbackRow.updated_at >= since)
                comments = comments.where(FeedbackRow.updated_at >= since)
            tally = {bool(helpful): int(n) for helpful, n in session.execute(counts)}
            seen: set[int] = set()
            items = []
            for row, question in session.execute(comments):
                if row.id in seen:
                    continue  # an answer audited twice: one comment is still one comment
                seen.add(row.id)
                items.append(
                    FeedbackComment(
                        row.answer_id, row.helpful, row.comment, row.updated_at, question or ""
                    )
                )
        return FeedbackSummary(tally.get(True, 0), tally.get(False, 0), tuple(items))

    def _upsert(self, answer_id: str, helpful: bool, comment: str, rater: str | None) -> None:
        now = self._clock()
        with self._db.session() as session:
            row = None
            if rater is not None:
                row = session.scalars(
                    select(FeedbackRow)
                    .where(FeedbackRow.answer_id == answer_id, FeedbackRow.rater == rater)
                    .with_for_update()
                ).first()
            if row is None:
                row = FeedbackRow(answer_id=answer_id, rater=rater, created_at=now)
                session.add(row)
            row.helpful = helpful
            row.comment = comment or row.comment or ""
            row.updated_at = now
