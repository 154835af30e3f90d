"""The one object adapters hold: every use case of staff, reviewers and admins.

:class:`Assistant` is a façade over the use cases in :mod:`bot.usecases`, and is all an adapter
calls: ask (:mod:`~bot.usecases.asking`), escalate once per answer, team and asker, and the
asker's note or anonymity (:mod:`~bot.usecases.escalating`), a case's steps (claim, reply,
resolve, reopen), feedback, "my cases" and "my team's cases" (:mod:`~bot.usecases.reviewing`),
a person's home (:mod:`~bot.usecases.home`),
policy-change announcements (:mod:`~bot.usecases.announcing`), approved answers (approve, list,
show, retire, reinstate: :mod:`~bot.usecases.approving`), reload and the admins' insights digest
(:mod:`~bot.usecases.admin`), and delivering the outbox. Every button and form, whatever its
platform, is one call, :meth:`Assistant.press` (:mod:`~bot.usecases.pressing`); which messages
in a thread the bot answers unasked is :meth:`Assistant.listens`
(:mod:`~bot.usecases.listening`). An answer to a personal situation
told in public comes back ``private`` (:mod:`bot.answers.privacy`). Each case it returns carries
the steps its buttons offer (:attr:`CaseView.actions`). Who may act is checked in the core, and
refusals (``PolicyBotError``) are worded for the person, so an adapter shows them as they are.

What the use cases share (the engine, the case work, the audit spool, the platform state) is
:class:`bot.usecases.core.Core`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.approved.match import ApprovedMatcher
from bot.approved.views import ApprovedView
from bot.audit.contacts import ContactKeeper
from bot.audit.spool import AuditSpool
from bot.audit.trail import load_or_create_key
from bot.case_views import CaseView
from bot.cases.announcements import Announced, Preview
from bot.cases.casework import Casework
from bot.cases.outbox import FlushResult
from bot.config import Settings
from bot.engine import PolicyBot
from bot.models import Answer, Question, Team
from bot.ops.digest import Reports
from bot.ops.metrics import Metrics
from bot.platform_state import PlatformState
from bot.ports import Notifier
from bot.reload.index import Progress
from bot.reload.report import ReloadReport
from bot.usecases.admin import Admin
from bot.usecases.announcing import Announcing
from bot.usecases.approving import Approving
from bot.usecases.asking import Asking
from bot.usecases.core import Core
from bot.usecases.escalating import Escalated, Escalating
from bot.usecases.home import Home, Homes
from bot.usecases.listening import Listening
from bot.usecases.pressing import STEPS, Inputs, Pressed, Pressing, refused_field
from bot.usecases.reviewing import Reviewing

__all__ = ["STEPS", "Assistant", "Escalated", "Home", "Pressed", "refused_field"]

log = logging.getLogger(__name__)


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
        self.core = Core(engine, casework, spool=spool, reconnect=reconnect)
        self.asking = Asking(self.core)
        self.escalating = Escalating(self.core, self.asking)
        self.reviewing = Reviewing(self.core)
        self.announcing = Announcing(self.core)
        self.approving = Approving(self.core)
        self.admin = Admin(self.core, self.approving)
        self.homes = Homes(self.core, self.reviewing, self.admin)
        self.listening = Listening(self.core, self.asking)
        self.pressing = Pressing(
            self.asking, self.escalating, self.reviewing, self.approving, self.announcing
        )

    @classmethod
    def open(cls, settings: Settings) -> Assistant:
        """The engine over the live index, the case work over the configured database, and
        the audit spool with its writer running.

        A database that cannot be opened now (locked, down) is tried again on later use,
        at most every :data:`bot.usecases.core.RETRY_DATABASE` seconds; answers go out
        meanwhile and their audit rows wait in the spool.
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
        assistant.asking.contacts = ContactKeeper(lambda: assistant.work.contacts, background=True)
        return assistant

    # What the use cases share.

    @property
    def engine(self) -> PolicyBot:
        return self.core.engine

    @property
    def casework(self) -> Casework | None:
        """The case work as opened (None while its database is unavailable)."""
        return self.core.casework

    @property
    def spool(self) -> AuditSpool | None:
        return self.core.spool

    @spool.setter
    def spool(self, spool: AuditSpool | None) -> None:
        self.core.spool = spool

    @property
    def matcher(self) -> ApprovedMatcher:
        """What serves approved answers to the questions asked (:mod:`bot.approved.match`)."""
        return self.asking.matcher

    @matcher.setter
    def matcher(self, matcher: ApprovedMatcher) -> None:
        self.asking.matcher = matcher

    @property
    def work(self) -> Casework:
        """The case work, or EscalationError when its database is unavailable."""
        return self.core.work

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def state(self) -> PlatformState:
        """What adapters keep about their platform, shared by every instance (see
        :attr:`bot.usecases.core.Core.state`)."""
        return self.core.state

    @property
    def metrics(self) -> Metrics:
        return self.core.metrics

    # Platform deliveries.

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """Whether this is the first delivery of a platform event (a message, a command):
        False for a repeat (a platform's retry, a replay, a resend to another instance), which
        the adapter acknowledges without handling (see :meth:`Core.first_delivery`)."""
        return self.core.first_delivery(platform, event_id)

    def delivery_failed(self, platform: str, event_id: str) -> None:
        """The handling of a delivery failed: forget its event id, so that the platform's
        retry (on any instance) is handled as a first delivery."""
        self.core.delivery_failed(platform, event_id)

    @property
    def reports(self) -> Reports:
        """Insights for admins: the weekly digest (admins only) and the full report's page
        its link opens (:mod:`bot.ops.digest`).

        Raises:
            EscalationError: the database is unavailable.
        """
        return self.admin.reports

    # Asking.

    def ask(self, question: Question) -> Answer:
        """Answer a question and record it, with any model call's cost, in the audit log.

        A question asked in a conversation (:attr:`Question.thread`) is understood with
        that conversation's recent questions, kept in the database for every instance
        (:mod:`bot.conversation.history`); its audit row names the earlier answer that gave the
        context. A personal situation told in public comes back ``private``
        (:mod:`bot.answers.privacy`): the adapter sends it to the asker alone.
        """
        return self.asking.ask(question)

    def listens(self, question: Question, *, addressed: bool) -> bool:
        """Whether the bot takes part in a message in a conversation, before any work on it.

        ``addressed`` (an @-mention): yes, and the conversation (:attr:`Question.thread`) is
        noted, for every instance, as one the bot speaks in. Otherwise only a message with
        text in such a conversation: a follow-up (see :mod:`bot.usecases.listening`).
        """
        return self.listening.listens(question, addressed=addressed)

    def reply_to(self, question: Question, *, addressed: bool) -> Answer | None:
        """:meth:`ask`, for a message in a conversation: None (stay silent) for a follow-up
        that does not address the bot and that the documents do not answer."""
        return self.listening.reply_to(question, addressed=addressed)

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
        return self.asking.answered(answer_id, asker)

    # Escalating.

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
        return self.escalating.escalate(
            answer_id, team, asker=asker, note=note, anonymous=anonymous, await_choice=await_choice
        )

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
        return self.escalating.escalate_question(
            text, team, asker=asker, note=note, anonymous=anonymous, await_choice=await_choice
        )

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
        return self.escalating.add_to_case(case_id, by=by, note=note, anonymous=anonymous)

    def keep_name(self, case_id: str, *, by: str) -> CaseView:
        """The asker chose to be named (closed the form without asking otherwise): a case
        announcement held for their choice goes out now.

        Raises:
            NotAuthorizedError: ``by`` is not the case's asker.
        """
        return self.escalating.keep_name(case_id, by=by)

    # Buttons and forms.

    def press(
        self, action: str, value: str = "", *, by: Question, inputs: Inputs | None = None
    ) -> Pressed:
        """Carry out what a button (or a form's submission) asks, whatever the platform:
        the one entry for every button (see :mod:`bot.usecases.pressing`).

        Args:
            action: one of :data:`bot.usecases.pressing.ACTIONS` (``feedback``, ``share``,
                ``escalate``, ``amend``, ``keep_name``, ``claim``, ``reply``, ``resolve``,
                ``reopen``, ``approve``, ``announce``, ``cancel``).
            value: what the button carries: an answer's id or a case's id.
            by: who pressed, with where they can be reached (an escalation's asker).
            inputs: what the form sent, by the keys of :mod:`bot.forms`; None for a bare
                button (an action that needs a form then opens it).

        Returns:
            What to show: what to tell the presser, the card to redraw, a form to open...

        Raises:
            PolicyBotError: refused or not possible, worded for the person (on a submitted
                form, :func:`refused_field` names the field to show it on).
        """
        return self.pressing.press(action, value, by=by, inputs=inputs)

    # Reviewing.

    def case(self, case_id: str) -> CaseView:
        """One case as reviewers see it (its :attr:`~CaseView.actions` are the buttons)."""
        return self.reviewing.case(case_id)

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
        return self.reviewing.act(case_id, action, by=by, text=text)

    def may(self, case_id: str, action: str, *, by: str) -> CaseView:
        """The case, when ``by`` may take ``action`` on it now (before a form opens for it).

        Raises:
            EscalationError: unknown case, or its status forbids the step.
            NotAuthorizedError: ``by`` may not act on the case's team.
        """
        return self.reviewing.may(case_id, action, by=by)

    def my_cases(self, person: str) -> list[CaseView]:
        """The cases ``person`` opened, newest first (anonymous ones included: theirs)."""
        return self.reviewing.my_cases(person)

    def team_cases(self, person: str) -> dict[Team, list[CaseView]]:
        """For each team ``person`` reviews (every team for an admin), its live cases,
        oldest first; empty for anyone else. A case whose asker may still choose to withhold
        their name is not listed until they have (as its card is not posted)."""
        return self.reviewing.team_cases(person)

    def home(self, person: str) -> Home:
        """What ``person``'s home lists: their own cases, their teams' live cases if they
        review, the insights digest if they are an admin (see :mod:`bot.usecases.home`).
        Never raises for an unavailable database: the home then lists no cases."""
        return self.homes.home(person)

    def deliver(self, notifier: Notifier) -> FlushResult:
        """Deliver what the outbox holds now (after a step that queued something)."""
        return self.reviewing.deliver(notifier)

    def tick(self, notifier: Notifier) -> FlushResult:
        """Queue due SLA reminders and deliver the outbox: the server calls it on a timer."""
        return self.reviewing.tick(notifier)

    def feedback(
        self, answer_id: str, helpful: bool, *, comment: str = "", rater: str = ""
    ) -> None:
        """Record whether an answer helped."""
        self.reviewing.feedback(answer_id, helpful, comment=comment, rater=rater)

    # Admin.

    def check_database(self) -> None:
        """Raise when the case database cannot be reached (for ``/healthz``)."""
        self.admin.check_database()

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
        return self.admin.reload(requested_by, knowledge_dir=knowledge_dir, progress=progress)

    def summary(self) -> list[str]:
        """What this process runs with, a line each, for the log at start (no secrets)."""
        return self.admin.summary()

    # Announcing.

    def preview_announcement(self, by: str | None, *, since: str | None = None) -> Preview:
        """What announcing the policy changes since ``since`` would post and whom it would
        tell (admins only; ``by`` None is the command line's own preview).

        Raises:
            NotAuthorizedError: ``by`` is not an admin.
            AnnouncementError: ``since`` is not a knowledge version in the change log.
        """
        return self.announcing.preview_announcement(by, since=since)

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
        return self.announcing.announce(by, since=since, version=version)

    def mute(self, person: str, platform: str, *, muted: bool = True) -> str:
        """Stop (or with ``muted`` False, restart) policy-change messages to ``person``;
        returns what to tell them."""
        return self.announcing.mute(person, platform, muted=muted)

    # Approved answers.

    def may_approve(self, case_id: str, *, by: str) -> CaseView:
        """The case, when ``by`` may save an approved answer from it (before a form opens).

        Raises:
            EscalationError: unknown case.
            NotAuthorizedError: ``by`` is neither a reviewer of the case's team nor an admin.
        """
        return self.approving.may_approve(case_id, by=by)

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
        return self.approving.approve(case_id, by=by, text=text, question=question, clauses=clauses)

    def approved_answers(
        self, team: str | None = None, status: str | None = None
    ) -> list[ApprovedView]:
        """Approved answers, oldest first, optionally of one team and status."""
        return self.approving.approved_answers(team, status)

    def approved_answer(self, answer_id: str) -> ApprovedView:
        """One approved answer (``A-0003``)."""
        return self.approving.approved_answer(answer_id)

    def retire(self, answer_id: str, *, by: str, reason: str = "") -> ApprovedView:
        """Withdraw an approved answer (the team's reviewers and admins only)."""
        return self.approving.retire(answer_id, by=by, reason=reason)

    def reinstate(self, answer_id: str, *, by: str, text: str | None = None) -> ApprovedView:
        """Re-approve a suspended or retired answer after review, against the clauses as
        they now stand (the team's reviewers and admins only)."""
        return self.approving.reinstate(answer_id, by=by, text=text)

    def close(self) -> None:
        """Stop the audit writer (what it cannot write stays spooled) and the database."""
        self.asking.close()
        if self.core.spool is not None:
            self.core.spool.close()
        if self.core.casework is not None:
            self.core.casework.close()
