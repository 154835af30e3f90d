"""The one object adapters hold: every use case of staff, reviewers and admins.

:class:`Assistant` joins the answer engine (:class:`~bot.engine.PolicyBot`) and the case
work (:class:`~bot.cases.casework.Casework`), and is all an adapter calls: ask, escalate (once per
answer, team and asker), the asker's note or anonymity, a case's steps (claim, reply, resolve,
reopen), feedback, reload, "my cases" and "my team's cases", the admins' insights digest
(:attr:`Assistant.reports`), approved answers (approve, list, show, retire, reinstate),
and delivering the outbox. An answer to a personal situation
told in public comes back ``private`` (:mod:`bot.answers.privacy`). Each case it returns carries the
steps its buttons offer (:attr:`CaseView.actions`). Who may act is checked here, in the core,
and refusals (``PolicyBotError``) are worded for the person, so an adapter shows them as they
are.

Every answer is written to the audit log; a failure to write it is logged and never keeps
staff from their answer. A follow-up in a conversation is understood with the conversation's
earlier questions (:mod:`bot.conversation.history`, :mod:`bot.conversation.follow_up`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from bot import phrases
from bot.answers.privacy import answer_privately
from bot.answers.questions import clean
from bot.approved.clauses import LiveClauses, live_clauses
from bot.approved.match import ApprovedMatcher
from bot.approved.views import ApprovedView
from bot.audit.contacts import ContactKeeper
from bot.audit.spool import AuditSpool
from bot.audit.trail import load_or_create_key
from bot.case_views import LIVE, CaseView
from bot.cases.announcements import Announced, Preview
from bot.cases.casework import Casework
from bot.cases.notices import mute_reply
from bot.cases.outbox import FlushResult
from bot.cases.service import CaseRequest
from bot.config import Settings
from bot.conversation.history import Conversations, carries_subject
from bot.engine import PolicyBot
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import TEAMS, Answer, Citation, Question, Team
from bot.ops.digest import Reports
from bot.ops.metrics import Metrics, Readings
from bot.platform_state import MemoryStateStore, PlatformState
from bot.ports import Notifier
from bot.reload.index import Progress
from bot.reload.lease import reload_lease
from bot.reload.report import ReloadReport
from bot.storage.db import Database

log = logging.getLogger(__name__)

#: Seconds a lookup waits for the audit writer to finish before reading the audit.
SPOOL_WAIT = 2.0
#: Seconds between attempts to open a case database that could not be opened.
RETRY_DATABASE = 10.0
#: Answers remembered per process, so that a button pressed later can escalate them.
RECENT_ANSWERS = 2048


@dataclass(frozen=True)
class Escalated:
    """What an escalation gave the asker.

    Attributes:
        case: the case their question is in.
        again: the case existed already (the button was pressed before): nothing new was
            opened or announced.
    """

    case: CaseView
    again: bool = False

    @classmethod
    def opened(cls, case: CaseView, created: bool) -> Escalated:
        return cls(case, again=not created)


class Assistant:
    """What staff, reviewers and admins can do, whatever the chat platform.

    Args:
        engine: the answer engine.
        casework: cases, outbox, audit and feedback; None when the database cannot be
            opened, so that staff still get answers (escalations then say why they fail).
        spool: writes audit rows behind the answers (default: written as they are given).
        reconnect: open the case database again, from the engine's settings, when it was
            not available (what :meth:`open` asks for).
    """

    def __init__(
        self,
        engine: PolicyBot,
        casework: Casework | None,
        *,
        spool: AuditSpool | None = None,
        reconnect: bool = False,
    ) -> None:
        self.engine = engine
        self.casework = casework
        self.spool = spool
        self._reconnects = reconnect
        self._recent: LRUCache[str, tuple[Question, Answer]] = LRUCache(RECENT_ANSWERS)
        self._local_state = PlatformState(MemoryStateStore())
        self.conversations = Conversations(
            lambda: self.state, quiet_minutes=engine.settings.conversation_minutes
        )
        self._lock = threading.Lock()
        self._retried_at = 0.0
        self._contacts = ContactKeeper(lambda: self.work.contacts, background=spool is not None)
        #: Approved answers, served before the documents' own, from the case database.
        self.matcher = ApprovedMatcher(lambda: self.work.approved)
        self.metrics = Metrics(
            Readings(
                backlog=lambda: self.work.outbox.backlog(),
                knowledge_version=lambda: self.engine.knowledge_version,
                model=lambda: stats.snapshot() if (stats := self.engine.llm_stats) else None,
            )
        )

    @classmethod
    def open(cls, settings: Settings) -> Assistant:
        """The engine over the live index, the case work over the configured database, and
        the audit spool with its writer running.

        A database that cannot be opened now (locked, down) is tried again on later use,
        at most every :data:`RETRY_DATABASE` seconds; answers go out meanwhile and their
        audit rows wait in the spool.
        """
        try:
            casework: Casework | None = Casework.open(settings)
        except Exception:
            log.exception("the case database cannot be opened: answering without it for now")
            casework = None
        assistant = cls(PolicyBot(settings), casework, reconnect=True)
        key = load_or_create_key(settings.data_dir)
        assistant.spool = AuditSpool(settings.data_dir, key=key, audit=lambda: assistant.work.audit)
        assistant.spool.start()
        assistant._contacts = ContactKeeper(lambda: assistant.work.contacts, background=True)
        return assistant

    @property
    def work(self) -> Casework:
        """The case work, or EscalationError when its database is unavailable."""
        if self.casework is None and self._reconnects:
            self._reconnect()
        if self.casework is None:
            raise EscalationError(
                "Cases cannot be recorded right now (the database is unavailable); "
                "please contact the team directly."
            )
        return self.casework

    def _reconnect(self) -> None:
        """Open the case database again if it failed before, not more often than allowed.

        The lock is not held while the database is opened: the answers of other threads
        take it too, and must not wait on the database.
        """
        with self._lock:
            now = time.monotonic()
            if self.casework is not None or now - self._retried_at < RETRY_DATABASE:
                return
            self._retried_at = now
        try:
            casework = Casework.open(self.settings)
        except Exception as exc:
            log.warning("the case database is still unavailable: %s", type(exc).__name__)
            return
        with self._lock:
            opened, self.casework = self.casework is None, self.casework or casework
        if not opened:  # another thread's attempt succeeded meanwhile
            casework.close()
            return
        log.info("the case database is available again")

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    @property
    def state(self) -> PlatformState:
        """What adapters keep about their platform (event ids seen, threads answered, where
        case cards are...), shared by every instance on the case database; this process's
        own memory while the database is unavailable (its reconnection is left to uses that
        may wait, such as the audit writer: this one is on every answer's path)."""
        casework = self.casework
        return casework.state if casework is not None else self._local_state

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """Whether this is the first delivery of a platform event (a message, a command):
        False for a repeat (a platform's retry, a replay, a resend to another instance), which
        the adapter acknowledges without handling.

        The event id is recorded in the platform state every instance shares
        (:meth:`PlatformState.seen`), without waiting on the database: while it cannot be
        written, this process remembers it meanwhile (a rare second answer is better than a
        lost question).

        Args:
            platform: ``slack`` or ``teams``.
            event_id: what identifies the delivery, the same however often it comes; ""
                (nothing identifies it) is always a first delivery.
        """
        if not event_id:
            return True
        return not self.state.seen(platform, event_id)

    def delivery_failed(self, platform: str, event_id: str) -> None:
        """The handling of a delivery failed: forget its event id, so that the platform's
        retry (on any instance) is handled as a first delivery."""
        if event_id:
            log.info("failed %s event %s: its retry will be handled", platform, event_id)
            self.state.forget(platform, event_id)

    @property
    def reports(self) -> Reports:
        """Insights for admins: the weekly digest (admins only) and the full report's page
        its link opens (:mod:`bot.ops.digest`).

        Raises:
            EscalationError: the database is unavailable.
        """
        work, index = self.work, self.engine.index
        return Reports(
            self.settings, work.db, lambda texts: index.embedder.embed(texts), self.state
        )

    def ask(self, question: Question) -> Answer:
        """Answer a question and record it, with any model call's cost, in the audit log.

        A question asked in a conversation (:attr:`Question.thread`) is understood with
        that conversation's recent questions, kept in the database for every instance
        (:mod:`bot.conversation.history`); its audit row names the earlier answer that gave the
        context. A personal situation told in public comes back ``private``
        (:mod:`bot.answers.privacy`): the adapter sends it to the asker alone.
        """
        window = self.conversations.window(question.platform, question.thread)
        answer = answer_privately(
            question,
            self.engine.ask(question, window, approved=self.matcher),
            enabled=self.settings.private_situations,
        )
        cleaned = clean(question.text)
        if question.thread and carries_subject(cleaned.text):
            self.conversations.add(
                question.platform,
                question.thread,
                asked=answer.question,
                searched=answer.searched or cleaned.text,
                answer_id=answer.id,
            )
        self.metrics.asked(answer.answered, answer.elapsed_ms / 1000)
        with self._lock:
            self._recent[answer.id] = (question, answer)
        if answer.answered and answer.citations and self.settings.notify_days > 0:
            self._contacts.keep(question)  # to tell them if a clause it cites changes
        if self.spool is not None:  # written behind the answer, whatever the database does
            self.spool.submit(question, answer, answer.usage)
            return answer
        try:
            self.work.audit.record(question, answer, usage=answer.usage)
        except Exception:  # the answer matters more than its audit row; the log keeps it
            log.exception("could not write the audit row of answer %s", answer.id)
        return answer

    def answered(self, answer_id: str, asker: Question | None = None) -> tuple[Question, Answer]:
        """The question and answer behind ``answer_id``.

        Answers are remembered in this process; an older one (or one given by another
        process, or before a restart) is read back from the audit log, with ``asker`` as
        who asked.

        Args:
            answer_id: the answer's id, from the button that carries it.
            asker: who wants the answer for themselves (to escalate it): they must be who
                asked it, as this process remembers or as the audit row records them (their
                pseudonym, or their id once a case names them). None: anyone (sharing).

        Raises:
            EscalationError: the answer is unknown (purged, or never recorded).
            NotAuthorizedError: ``asker`` did not ask it (an answer id is not a pass to
                open a case in one's own name with someone else's question).
        """
        with self._lock:
            found = self._recent.get(answer_id)
        if found is not None:
            if asker is not None and found[0].user_id != asker.user_id:
                raise _not_theirs(asker, answer_id)
            return found
        if self.spool is not None:
            try:  # an answer given a moment ago may still be in the spool
                self.spool.drain(wait=SPOOL_WAIT)
            except Exception:
                log.warning("the audit spool could not be written before a lookup")
        entry = self.work.audit.find(answer_id)
        if entry is None or asker is None:
            raise EscalationError(
                "I no longer have that answer to hand: please ask the question again."
            )
        if entry.asker not in {asker.user_id, self.work.audit.pseudonym(asker.user_id)}:
            raise _not_theirs(asker, answer_id)
        answer = Answer(
            question=entry.question,
            answered=entry.answered,
            text=entry.answer,
            citations=tuple(_citation(c) for c in entry.citations),
            knowledge_version=entry.knowledge_version,
            id=answer_id,
        )
        return replace(asker, text=entry.question), answer

    def escalate(
        self,
        answer_id: str,
        team: str,
        *,
        asker: Question | None = None,
        note: str = "",
        anonymous: bool = False,
        await_choice: bool = False,
    ) -> Escalated:
        """Hand an answered question to a team, once per answer, team and asker.

        Pressing the button again (a double click, a platform resending a slow request, the
        same press reaching another server) gives the case opened the first time, with
        ``again`` set; its note and anonymity are then changed with :meth:`add_to_case`.

        Args:
            answer_id: the answer the asker wants a person to look at.
            team: ``hr`` or ``communications``.
            asker: who presses the button, when the adapter knows better than the answer
                (the same user, with a fresh conversation reference).
            note: what the asker adds for the team.
            anonymous: withhold the asker's identity from the reviewers.
            await_choice: the asker is offered the choice of anonymity only now (a form
                after the button): the team is shown the case once they have chosen
                (:meth:`add_to_case`, :meth:`keep_name`), or two minutes later.

        Returns:
            The case, and whether it existed already.

        Raises:
            EscalationError: unknown team, an answer no longer known, or no database.
            NotAuthorizedError: ``asker`` is not who asked the question.
        """
        question, answer = self.answered(answer_id, asker)
        request = CaseRequest.from_answer(
            _team(team), asker or question, answer, note=note, anonymous=anonymous
        )
        return self._opened(request, await_choice)

    def escalate_question(
        self,
        text: str,
        team: str,
        *,
        asker: Question,
        note: str = "",
        anonymous: bool = False,
        await_choice: bool = False,
    ) -> Escalated:
        """Hand a question the bot could not answer (it failed) to a team, once per asker.

        Args:
            text: the question as asked.
            team: ``hr`` or ``communications``.
            asker: who asks, with their conversation reference and display name.
            note: what the asker adds for the team.
            anonymous: withhold the asker's identity from the reviewers.
            await_choice: as for :meth:`escalate`.
        """
        request = CaseRequest(
            team=_team(team),
            asker=asker.user_id,
            question=text,
            display_name=asker.display_name,
            conversation=asker.conversation,
            note=note,
            anonymous=anonymous,
        )
        return self._opened(request, await_choice)

    def add_to_case(
        self, case_id: str, *, by: str, note: str = "", anonymous: bool = False
    ) -> CaseView:
        """The asker adds a note for the team, or withholds their name (only the asker may).

        A case announcement held for their choice goes out now, as the case now is; one the
        team has already seen is not unsent (``announcing`` is then False: the adapter
        redraws the card it posted).

        Raises:
            EscalationError: unknown case, nothing to add, or too long a note.
            NotAuthorizedError: ``by`` is not the case's asker.
        """
        return self.work.cases.asker_update(case_id, by=by, note=note, anonymous=anonymous)

    def keep_name(self, case_id: str, *, by: str) -> CaseView:
        """The asker chose to be named (closed the form without asking otherwise): a case
        announcement held for their choice goes out now.

        Raises:
            NotAuthorizedError: ``by`` is not the case's asker.
        """
        return self.work.cases.keep_name(case_id, by=by)

    def case(self, case_id: str) -> CaseView:
        """One case as reviewers see it (its :attr:`~CaseView.actions` are the buttons)."""
        return self.work.cases.get(case_id)

    def act(self, case_id: str, action: str, *, by: str, text: str = "") -> CaseView:
        """Take one of a case's steps, by the name its button carries.

        Args:
            case_id: the case, ``HR-0042``.
            action: ``claim``, ``reply`` (which claims an unclaimed case), ``resolve`` or
                ``reopen``.
            by: the reviewer's (or admin's) ``platform:user`` id.
            text: the reply, or why the case is reopened.

        Returns:
            The case after the step.

        Raises:
            EscalationError: unknown case or action, or a step its status forbids; the
                message says what to do instead.
            NotAuthorizedError: ``by`` is neither a reviewer of the case's team nor an admin.
        """
        cases = self.work.cases
        if action == "claim":
            return cases.claim(case_id, by=by)
        if action == "reply":
            return cases.reply(case_id, text, by=by)
        if action == "resolve":
            return cases.resolve(case_id, by=by)
        if action == "reopen":
            return cases.reopen(case_id, by=by, reason=text)
        raise EscalationError(f"Sorry, I don't know how to {action[:40]!r} a case.")

    def may(self, case_id: str, action: str, *, by: str) -> CaseView:
        """The case, when ``by`` may take ``action`` on it now (before a form opens for it).

        Raises:
            EscalationError: unknown case, or its status forbids the step.
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        return self.work.cases.check(case_id, action, by=by)

    def my_cases(self, person: str) -> list[CaseView]:
        """The cases ``person`` opened, newest first (anonymous ones included: theirs)."""
        return list(self.work.cases.asked_by(person))

    def team_cases(self, person: str) -> dict[Team, list[CaseView]]:
        """For each team ``person`` reviews (every team for an admin), its live cases,
        oldest first; empty for anyone else. A case whose asker may still choose to withhold
        their name is not listed until they have (as its card is not posted)."""
        cases = self.work.cases
        held = self.work.outbox.held()
        found: dict[Team, list[CaseView]] = {}
        for team in TEAMS:
            if cases.may_act(person, team):
                live = [case for status in LIVE for case in cases.list(team, status)]
                shown = [case for case in live if case.id not in held]
                found[team] = sorted(shown, key=lambda case: case.created_at)
        return found

    def deliver(self, notifier: Notifier) -> FlushResult:
        """Deliver what the outbox holds now (after a step that queued something)."""
        return self.work.outbox.flush(notifier)

    def tick(self, notifier: Notifier) -> FlushResult:
        """Queue due SLA reminders and deliver the outbox: the server calls it on a timer."""
        return self.work.tick(notifier)

    def check_database(self) -> None:
        """Raise when the case database cannot be reached (for ``/healthz``)."""
        self.work.db.ping()

    def feedback(
        self, answer_id: str, helpful: bool, *, comment: str = "", rater: str = ""
    ) -> None:
        """Record whether an answer helped."""
        self.work.feedback.record(answer_id, helpful, comment=comment, rater=rater)

    def reload(
        self,
        requested_by: str | None = None,
        *,
        knowledge_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> ReloadReport:
        """Reload the documents (admins only, when asked from a chat platform), one reload at
        a time across every instance on the database (:mod:`bot.reload.lease`).

        Raises:
            NotAuthorizedError: ``requested_by`` is not an admin.
            ReloadInProgressError: a reload is running, on this instance or another.
        """
        if requested_by is not None and requested_by not in self.settings.admins:
            # refused by the engine, in its words, before any lease is taken
            return self.engine.reload_documents(requested_by)
        try:
            db: Database | None = self.work.db
        except EscalationError:  # the database is down: the index's own lock only
            db = None
        with reload_lease(db):
            report = self.engine.reload_documents(
                requested_by, knowledge_dir=knowledge_dir, progress=progress
            )
        self.metrics.reloaded(report.rebuilt, report.elapsed_s)
        if report.changes:  # approved answers resting on a changed clause wait for review
            try:
                self.work.approved.suspend_changed(self._clauses())
            except Exception:  # the next answer given retries it (bot.approved.match)
                log.exception("approved answers could not be checked after the reload")
        return report

    def preview_announcement(self, by: str | None, *, since: str | None = None) -> Preview:
        """What announcing the policy changes since ``since`` would post and whom it would
        tell (admins only; ``by`` None is the command line's own preview).

        Raises:
            NotAuthorizedError: ``by`` is not an admin.
            AnnouncementError: ``since`` is not a knowledge version in the change log.
        """
        return self.work.announcements.preview(since, by=by)

    def announce(
        self, by: str, *, since: str | None = None, version: str | None = None
    ) -> Announced:
        """Announce the policy changes (admins only): the post for the announcement channels
        and a direct message per changed clause to the staff it concerns, through the outbox
        (see :mod:`bot.cases.announcements`); ``version`` is the one the admin's preview showed.

        Raises:
            NotAuthorizedError: ``by`` is not an admin.
            AnnouncementError: nothing to announce, changed since the preview, or done.
        """
        return self.work.announcements.confirm(by, since=since, version=version)

    def mute(self, person: str, platform: str, *, muted: bool = True) -> str:
        """Stop (or with ``muted`` False, restart) policy-change messages to ``person``;
        returns what to tell them."""
        contacts = self.work.contacts
        changed = contacts.mute(person) if muted else contacts.unmute(person)
        return mute_reply(platform, muted=muted, changed=changed)

    def may_approve(self, case_id: str, *, by: str) -> CaseView:
        """The case, when ``by`` may save an approved answer from it (before a form opens).

        Raises:
            EscalationError: unknown case.
            NotAuthorizedError: ``by`` is neither a reviewer of the case's team nor an admin.
        """
        case = self.work.cases.get(case_id)
        self.work.approved.check(case.team, by=by)
        return case

    def approve(
        self,
        case_id: str,
        *,
        by: str,
        text: str | None = None,
        question: str | None = None,
        clauses: tuple[str, ...] = (),
    ) -> ApprovedView:
        """Save an approved answer for a case's question (see
        :meth:`bot.approved.service.ApprovedAnswers.approve`): by default the latest reply on the
        case, resting on the clauses the bot's answer cited.

        Raises:
            EscalationError: unknown case or clause, no text, too long.
            NotAuthorizedError: ``by`` may not act for the case's team.
        """
        case = self.work.cases.get(case_id)
        return self.work.approved.approve(
            case, by=by, live=self._clauses(), text=text, question=question, clauses=clauses
        )

    def approved_answers(
        self, team: str | None = None, status: str | None = None
    ) -> list[ApprovedView]:
        """Approved answers, oldest first, optionally of one team and status."""
        return self.work.approved.list(team, status)

    def approved_answer(self, answer_id: str) -> ApprovedView:
        """One approved answer (``A-0003``)."""
        return self.work.approved.get(answer_id)

    def retire(self, answer_id: str, *, by: str, reason: str = "") -> ApprovedView:
        """Withdraw an approved answer (the team's reviewers and admins only)."""
        return self.work.approved.retire(answer_id, by=by, reason=reason)

    def reinstate(self, answer_id: str, *, by: str, text: str | None = None) -> ApprovedView:
        """Re-approve a suspended or retired answer after review, against the clauses as
        they now stand (the team's reviewers and admins only)."""
        return self.work.approved.reinstate(answer_id, by=by, live=self._clauses(), text=text)

    def _clauses(self) -> LiveClauses:
        return live_clauses(self.engine.live_build())

    def summary(self) -> list[str]:
        """What this process runs with, a line each, for the log at start (no secrets)."""
        settings = self.settings
        slack, teams = settings.platforms.count("slack"), settings.teams
        lines = [
            "Slack: "
            + (
                ("on, Socket Mode" if settings.slack.socket_mode else "on, events at /slack/events")
                if slack
                else "off (no SLACK_BOT_TOKEN)"
            ),
            "Teams: "
            + (
                "local development mode: no authentication, loopback only"
                if teams.unauthenticated
                else "on, activities at /api/messages"
                if teams.enabled
                else "off (no MICROSOFT_APP_ID)"
            ),
            "Database: "
            + (self.casework.db.dialect if self.casework else "unavailable, retried on use"),
            "Vectors: "
            + (
                f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
                if settings.chroma_host
                else "embedded Chroma in the data directory"
            ),
            f"Model: {self.engine.model_description}",
            f"Knowledge version: {self.engine.knowledge_version or 'none yet (run a reload)'}",
            f"People: {len(settings.admins)} admins, {len(settings.hr_reviewers)} HR and "
            f"{len(settings.comms_reviewers)} Communications reviewers",
        ]
        return lines

    def _opened(self, request: CaseRequest, await_choice: bool) -> Escalated:
        case, created = self.work.cases.open_once(request, held=await_choice)
        if created:
            self.metrics.escalated(request.team)
        return Escalated.opened(case, created)

    def close(self) -> None:
        """Stop the audit writer (what it cannot write stays spooled) and the database."""
        self._contacts.close()
        if self.spool is not None:
            self.spool.close()
        if self.casework is not None:
            self.casework.close()


def _not_theirs(asker: Question, answer_id: str) -> NotAuthorizedError:
    log.warning("refused: %s may not escalate answer %.8s… (not theirs)", asker.user_id, answer_id)
    return NotAuthorizedError(phrases.NOT_YOUR_ANSWER)


def _team(name: str) -> Team:
    if name not in TEAMS:
        raise EscalationError(f"Unknown team {name!r}: choose hr or communications.")
    return "hr" if name == "hr" else "communications"


def _citation(data: dict[str, Any]) -> Citation:
    return Citation(
        source=str(data.get("source", "")),
        section=str(data.get("section", "")),
        title=str(data.get("title", "")),
        quote=str(data.get("quote", "")),
        score=float(data.get("score", 0.0)),
    )
