"""Escalation cases: open, claim, reply, resolve, reopen, with every step recorded.

Status machine::

    open ──claim──▶ claimed ──reply──▶ answered ──resolve──▶ resolved
      ▲                │ resolve          │ reply (again)       │
      └── reopened ◀───┴──────── reopen ──┴─────────────────────┘

``claim`` takes an open or reopened case; ``reply`` takes any case but a resolved one, and
claims an unclaimed one on the way (both steps are recorded); ``resolve`` needs a claimed or
answered one; ``reopen`` takes an answered or resolved one and puts it back in the team's
queue. Notes may be added in any status. Anything else raises
:class:`~bot.errors.EscalationError` with a message that says what to do instead
(:mod:`bot.cases.rules` holds the table and the wording).

Who may act: the reviewers of the case's team (``POLICYBOT_HR_REVIEWERS``,
``POLICYBOT_COMMS_REVIEWERS``) and the admins (``POLICYBOT_ADMINS``). Admins may act on every
case so that a team with no reviewer configured, or all away, is never stuck; each step names
who took it. A refusal is logged and raises :class:`~bot.errors.NotAuthorizedError`. Anyone may
open a case; only its asker may add a note or withhold their name afterwards
(``asker_update``). Reading cases (:meth:`CaseService.get`, :meth:`CaseService.list`) is not
checked here: adapters show them only in the team's channel, and the CLI runs on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.case_views import (
    MAX_NOTE,
    MAX_TEXT,
    WAITING,
    CaseRequest,
    CaseView,
    build_view,
    check_length,
    format_ref,
    parse_status,
    parse_team,
)
from bot.cases import rows
from bot.cases.outbox import enqueue, is_held, release_held
from bot.cases.rules import (
    ALLOWED,
    EVENTS,
    held_for_the_asker,
    not_a_reviewer,
    not_the_asker,
    refusal,
)
from bot.config import Settings
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import TEAM_NAMES, Team
from bot.storage.db import Clock, Database, utcnow
from bot.storage.models import CaseEventRow, CaseRow

log = logging.getLogger(__name__)

__all__ = ["CaseRequest", "CaseService"]


class CaseService:
    """Opens cases and moves them through their life, checking who may do what.

    Args:
        db: the database.
        settings: the reviewers and admins.
        clock: the current UTC time (tests pass a fake).
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        pseudonym: Callable[[str], str] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        # How the audit log names an asker: a case only claims the audit row of an answer
        # its own asker received (not a colleague's answer shared in a channel).
        self._pseudonym = pseudonym

    def reviewers(self, team: Team) -> frozenset[str]:
        """The ``platform:user`` ids configured as the team's reviewers."""
        if team == "hr":
            return self._settings.hr_reviewers
        return self._settings.comms_reviewers

    def may_act(self, person: str, team: Team) -> bool:
        """Whether ``person`` may act on the team's cases (a reviewer of it, or an admin)."""
        return person in self.reviewers(team) or person in self._settings.admins

    def open(self, request: CaseRequest) -> CaseView:
        """Open a case and queue its announcement to the team.

        Returns:
            The new case; its id is unique across processes and databases.

        Raises:
            EscalationError: the request is incomplete or invalid.
        """
        return self.open_once(request, once=False)[0]

    def open_once(
        self, request: CaseRequest, *, once: bool = True, held: bool = False
    ) -> tuple[CaseView, bool]:
        """Open a case, unless its asker already passed the same answer to the same team.

        A double click, a platform resending a slow request, or the same button pressed on
        another instance of the server: however many arrive, and however close together, one
        case is opened. The same answer is the same ``answer_id``, or for a request without
        one (a question the bot could not answer), the same question.

        Args:
            request: what to open.
            once: look for the asker's earlier case first (``open`` does not).
            held: the team is shown the case only once its asker has chosen whether to
                show their name (:meth:`asker_update`, :meth:`keep_name`), or after
                :data:`~bot.cases.outbox.ASKER_CHOICE`.

        Returns:
            The case, and whether it was opened now (False: it existed already).

        Raises:
            EscalationError: the request is incomplete or invalid.
        """
        request = request.cleaned()
        now = self._clock()
        with self._db.session() as session:
            if once:
                rows.lock_counter(session, request.team)
                earlier = rows.earlier_case(session, request)
                if earlier is not None:
                    log.info("%s already asked for: not opened again", rows.ref(earlier))
                    return build_view(session, earlier), False
            row = rows.new_case(session, request, rows.next_number(session, request.team), now)
            rows.record_opening(session, row, request, now, pseudonym=self._pseudonym)
            enqueue(session, kind="post_case", case=row, now=now, payload={}, held=held)
            view = build_view(session, row)
        log.info("opened %s for the %s", view.id, TEAM_NAMES[view.team])
        return view, True

    def claim(self, case_id: str, *, by: str) -> CaseView:
        """Take an open or reopened case: the team sees who is on it.

        Args:
            case_id: ``HR-0042``, ``hr-42``...
            by: the reviewer's (or admin's) ``platform:user`` id.

        Returns:
            The case after the change.

        Raises:
            EscalationError: unknown case, or not open or reopened (already claimed...).
            NotAuthorizedError: ``by`` is neither a reviewer of the case's team nor an admin.
        """

        def apply(_session: Session, row: CaseRow, _now: datetime) -> str:
            row.status = "claimed"
            row.claimed_by = by.strip()
            return ""

        return self._act(case_id, "claim", by, apply)

    def reply(self, case_id: str, text: str, *, by: str) -> CaseView:
        """Answer the asker; the reply is queued for delivery to them.

        Args:
            case_id: the case.
            text: the reply (neutral markdown, at most 8,000 characters).
            by: the reviewer's ``platform:user`` id.

        A reply on an open or reopened case claims it for ``by`` first: the history shows
        both steps, the claim then the reply.

        Raises:
            EscalationError: unknown case, empty or long text, or the case is resolved
                (reopen it first).
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        text = text.strip()
        if not text:
            raise EscalationError("a reply needs some text")
        check_length("the reply", text, MAX_TEXT)

        def apply(session: Session, row: CaseRow, now: datetime) -> str:
            if row.status in WAITING:
                row.claimed_by = by.strip()
                session.add(
                    CaseEventRow(case_id=row.id, at=now, by=by.strip(), action=EVENTS["claim"])
                )
            row.status = "answered"
            enqueue(session, kind="deliver_reply", case=row, now=now, payload={"text": text})
            return text

        return self._act(case_id, "reply", by, apply)

    def resolve(self, case_id: str, *, by: str) -> CaseView:
        """Close a claimed or answered case.

        Raises:
            EscalationError: unknown case, or not claimed or answered.
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        return self._act(case_id, "resolve", by, _resolve)

    def reopen(self, case_id: str, *, by: str, reason: str = "") -> CaseView:
        """Put an answered or resolved case back in the team's queue (announced again).

        Args:
            case_id: the case.
            by: the reviewer's ``platform:user`` id.
            reason: why, for the history.

        Raises:
            EscalationError: unknown case, or not answered or resolved.
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        check_length("the reason", reason.strip(), MAX_NOTE)

        def apply(session: Session, row: CaseRow, now: datetime) -> str:
            row.status = "reopened"
            row.claimed_by = None
            row.waiting_since = now
            row.last_reminded_at = None
            enqueue(session, kind="post_case", case=row, now=now, payload={})
            return reason.strip()

        return self._act(case_id, "reopen", by, apply)

    def add_note(self, case_id: str, text: str, *, by: str) -> CaseView:
        """Add an internal note for the team (never sent to the asker), in any status.

        Raises:
            EscalationError: unknown case, or empty or long text.
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        text = text.strip()
        if not text:
            raise EscalationError("a note needs some text")
        check_length("the note", text, MAX_NOTE)
        return self._act(case_id, "note", by, lambda _session, _row, _now: text)

    def asker_update(
        self, case_id: str, *, by: str, note: str = "", anonymous: bool = False
    ) -> CaseView:
        """What the asker adds after opening a case: a note for the team, or anonymity.

        Anonymity cannot be undone. From then on no view, event or export names the asker,
        and the answer's audit rows are pseudonymised again and unlinked from the case. A
        notification the team has already received cannot be unsent: adapters rewrite the
        case card and say so to the asker. An announcement held for the asker's choice
        (:meth:`open_once` ``held``) is due at once, and shows the case as it now is.

        Args:
            case_id: the case.
            by: who asks; only the case's own asker may.
            note: added to the case's note (at most 2,000 characters in all).
            anonymous: withhold the asker's identity from now on.

        Raises:
            EscalationError: unknown case, nothing to change, or the note is too long.
            NotAuthorizedError: ``by`` is not the case's asker.
        """
        note = note.strip()
        if not note and not anonymous:
            raise EscalationError("nothing to add: write a note or choose to stay anonymous")
        with self._db.session() as session:
            row, ref = self._askers(session, case_id, by)
            now = self._clock()
            release_held(session, row, now)
            if anonymous and not row.anonymous:
                rows.anonymise(session, row, ref, self._settings)
                session.add(CaseEventRow(case_id=row.id, at=now, by=None, action="anonymised"))
            if note:
                combined = f"{row.note}\n\n{note}" if row.note else note
                check_length("the note", combined, MAX_NOTE)
                row.note = combined
                by_ = None if row.anonymous else row.asker_id
                session.add(CaseEventRow(case_id=row.id, at=now, by=by_, action="noted", text=note))
            row.updated_at = now
            session.flush()
            return build_view(session, row)

    def keep_name(self, case_id: str, *, by: str) -> CaseView:
        """The asker chose to be named (they closed the form without asking otherwise): an
        announcement held for their choice is due at once.

        Raises:
            EscalationError: unknown case.
            NotAuthorizedError: ``by`` is not the case's asker.
        """
        with self._db.session() as session:
            row, _ref = self._askers(session, case_id, by)
            release_held(session, row, self._clock())
            session.flush()
            return build_view(session, row)

    def _askers(self, session: Session, case_id: str, by: str) -> tuple[CaseRow, str]:
        """The case, locked, when ``by`` is its asker."""
        row = rows.load(session, case_id, lock=True)
        ref = format_ref(row.team, row.number)
        if by.strip() != row.asker_id:
            log.warning("refused: %s may not add to %s (not its asker)", by or "(nobody)", ref)
            raise NotAuthorizedError(not_the_asker(ref))
        return row, ref

    def asked_by(self, asker: str, *, limit: int = 20) -> Sequence[CaseView]:
        """The cases ``asker`` opened, newest first, anonymous ones included (they are theirs)."""
        query = (
            select(CaseRow)
            .where(CaseRow.asker_id == asker.strip())
            .order_by(CaseRow.created_at.desc(), CaseRow.id.desc())
            .limit(limit)
        )
        with self._db.session() as session:
            return [build_view(session, row) for row in session.scalars(query)]

    def get(self, case_id: str) -> CaseView:
        """One case as reviewers see it.

        Raises:
            EscalationError: not a case id, or no such case.
        """
        with self._db.session() as session:
            return build_view(session, rows.load(session, case_id))

    def list(self, team: str | None = None, status: str | None = None) -> Sequence[CaseView]:
        """Cases, oldest first, optionally of one team and one status."""
        query = select(CaseRow).order_by(CaseRow.created_at, CaseRow.id)
        if team:
            query = query.where(CaseRow.team == parse_team(team))
        if status:
            query = query.where(CaseRow.status == parse_status(status))
        with self._db.session() as session:
            return [build_view(session, row) for row in session.scalars(query)]

    def check(self, case_id: str, action: str, *, by: str) -> CaseView:
        """The case, if ``by`` may take ``action`` on it now (before a reply form opens).

        Raises:
            EscalationError: unknown case, or its status forbids the step.
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        with self._db.session() as session:
            row = rows.load(session, case_id)
            self._allow(session, row, action, by.strip())
            return build_view(session, row)

    def _allow(self, session: Session, row: CaseRow, action: str, by: str) -> None:
        ref = format_ref(row.team, row.number)
        self._authorise(by, action, row.team, ref)
        if is_held(session, row.id, self._clock()):
            # The team is shown nothing of the case before its asker has chosen whether to
            # show their name: no step either, whatever button or command asks for one.
            log.warning("refused: %s may not %s %s yet (held for its asker)", by, action, ref)
            raise EscalationError(held_for_the_asker(ref))
        allowed = ALLOWED.get(action)
        if allowed is not None and row.status not in allowed:
            raise EscalationError(refusal(ref, action, row.status, row.claimed_by))

    def _act(
        self, case_id: str, action: str, by: str, apply: Callable[[Session, CaseRow, datetime], str]
    ) -> CaseView:
        by = by.strip()
        with self._db.session() as session:
            row = rows.load(session, case_id, lock=True)
            self._allow(session, row, action, by)
            now = self._clock()
            text = apply(session, row, now)
            row.updated_at = now
            session.add(
                CaseEventRow(case_id=row.id, at=now, by=by, action=EVENTS[action], text=text)
            )
            session.flush()
            return build_view(session, row)

    def _authorise(self, by: str, action: str, team: str, ref: str) -> None:
        team_ = parse_team(team)
        if by and self.may_act(by, team_):
            if by not in self.reviewers(team_):
                log.info("admin %s may %s %s of the %s", by, action, ref, TEAM_NAMES[team_])
            return
        log.warning(
            "refused: %s may not %s %s (not a reviewer of the %s, nor an admin)",
            by or "(nobody)",
            action,
            ref,
            TEAM_NAMES[team_],
        )
        raise NotAuthorizedError(not_a_reviewer(ref, action, team_))


def _resolve(_session: Session, row: CaseRow, _now: datetime) -> str:
    row.status = "resolved"
    return ""
