"""Pressing: every button and form of every platform, through one entry.

A button names one of :data:`ACTIONS` and carries one value (an answer's id, a case's id);
a form sends what was typed in as ``inputs``, read by the keys of :mod:`bot.forms`. The
outcome is :class:`Pressed`, neutral: what to tell the presser, the case whose card to redraw,
a form to open, a receipt, whether something was queued for delivery. A platform only
translates its own button ids into an action and draws the outcome.

An action that needs a form (``reply``, ``approve``, ``amend``) pressed without ``inputs``
opens it; with ``inputs`` (a modal's submission, or a card whose fields sit beside the
button) it is carried out. An ``escalate`` leaves the asker's choice of anonymity
still to come (the team's card waits for it, see :meth:`bot.assistant.Assistant.escalate`)
unless its ``inputs`` carry that choice (``anonymous``).

Refusals are raised, worded for the person (``PolicyBotError``); on a submitted form,
:func:`refused_field` names the field to show them on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot import phrases
from bot.approved.clauses import draft_of
from bot.approved.views import ApprovedView, ClauseError, approved_receipt, parse_clause_list
from bot.case_views import CaseView
from bot.cases.announcements import CANCELLED
from bot.errors import PolicyBotError
from bot.forms import Form, amend_form, approve_form, reply_form
from bot.models import Answer, Question
from bot.usecases.announcing import Announcing
from bot.usecases.approving import Approving
from bot.usecases.asking import Asking
from bot.usecases.escalating import Escalated, Escalating
from bot.usecases.reviewing import Reviewing

log = logging.getLogger(__name__)

Inputs = Mapping[str, object]

STEPS = ("claim", "reply", "resolve", "reopen")
"""A case's steps, taken by its team's reviewers (or admins)."""
ACTIONS = (
    "feedback",  # an answer helped or not: value the answer, inputs {"helpful": bool}
    "share",  # an answer shown to the conversation: value the answer
    "escalate",  # value the answer (or inputs {"question": text}), inputs {"team", ...}
    "amend",  # the asker's note or anonymity: value the case
    "keep_name",  # the asker closed that form without saving: value the case
    *STEPS,  # value the case; reply's inputs {"reply": text}
    "approve",  # save an approved answer: value the case
    "announce",  # confirm an announcement: inputs {"since", "version"} the preview showed
    "cancel",  # cancel an announcement
)
"""What a button can ask for, whatever its platform calls it."""


@dataclass(frozen=True)
class Pressed:
    """What pressing a button (or sending a form) came to, for the platform to show.

    Attributes:
        action: the action taken (one of :data:`ACTIONS`).
        say: what to tell the presser (plain text), if anything.
        title: a heading for ``say`` where a platform shows one (a modal's title).
        case: the case acted on, as it now is.
        redraw: the case's card shows an old state: redraw it (where the button was
            pressed, or where the card last was).
        lists_changed: the case moved in the reviewers' lists (its status or claimer).
        form: a form to open for the presser; its submission comes back with ``inputs``.
        quote: a text the form shows quoted above its fields (the question a reply answers).
        close_counts: closing the form without saving is itself an answer
            (``keep_name``): the platform reports it.
        shared: an answer to show in the conversation, to everyone there.
        escalated: the escalation's receipt (the case, and whether it existed already).
        approved: the approved answer saved.
        replace: ``say`` replaces the message the button was on (it is done with).
        private: what is shown names the presser's own case: show it to them alone (the
            button was pressed where others see), and there only a neutral line.
        deliver: something was queued for delivery: deliver it now.
    """

    action: str
    say: str = ""
    title: str = ""
    case: CaseView | None = None
    redraw: bool = False
    lists_changed: bool = False
    form: Form | None = None
    quote: str = ""
    close_counts: bool = False
    shared: Answer | None = None
    escalated: Escalated | None = None
    approved: ApprovedView | None = None
    replace: bool = False
    private: bool = False
    deliver: bool = False


def refused_field(action: str, error: PolicyBotError) -> str:
    """The key of the form field a refusal of a submitted ``action`` is shown on."""
    if action == "approve":
        return "clauses" if isinstance(error, ClauseError) else "text"
    return {"amend": "note", "reply": "reply"}.get(action, "")


class Pressing:
    """The one entry for buttons and forms (see the module docstring).

    Args:
        asking: answers behind buttons.
        escalating: cases opened from answers, and the asker's changes.
        reviewing: a case's steps and feedback.
        approving: approved answers.
        announcing: policy-change announcements.
    """

    def __init__(
        self,
        asking: Asking,
        escalating: Escalating,
        reviewing: Reviewing,
        approving: Approving,
        announcing: Announcing,
    ) -> None:
        self._asking = asking
        self._escalating = escalating
        self._reviewing = reviewing
        self._approving = approving
        self._announcing = announcing

    def press(
        self, action: str, value: str = "", *, by: Question, inputs: Inputs | None = None
    ) -> Pressed:
        """See :meth:`bot.assistant.Assistant.press`."""
        person = by.user_id
        given = inputs or {}
        if action == "feedback":
            helpful = given.get("helpful") is True
            self._reviewing.feedback(value, helpful, rater=person)
            return Pressed(action, say=phrases.feedback_thanks(helpful))
        if action == "share":
            _question, answer = self._asking.answered(value)
            return Pressed(action, shared=answer)
        if action == "escalate":
            return self._escalate(value, by, inputs)
        if action in ("amend", "keep_name"):
            return self._amend(action, value, person, inputs)
        if action in STEPS:
            return self._step(action, value, person, inputs)
        if action == "approve":
            return self._approve(value, person, inputs)
        if action == "announce":
            since, version = str(given.get("since") or ""), str(given.get("version") or "")
            done = self._announcing.announce(person, since=since or None, version=version or None)
            return Pressed(action, say=done.summary(), replace=True, deliver=True)
        if action == "cancel":
            return Pressed(action, say=CANCELLED, replace=True)
        log.warning("unknown button %r", action[:40])
        return Pressed(action, say=phrases.UNKNOWN_BUTTON)

    def _escalate(self, value: str, by: Question, inputs: Inputs | None) -> Pressed:
        given = inputs or {}
        team, question = str(given.get("team") or ""), str(given.get("question") or "")
        note, anonymous = str(given.get("note") or ""), given.get("anonymous") is True
        # No choice of anonymity sent with the button: it is offered next, and the team's
        # card waits for it.
        waits = "anonymous" not in given
        if question:  # a question the bot could not answer: there is no answer to attach
            done = self._escalating.escalate_question(
                question, team, asker=by, note=note, anonymous=anonymous, await_choice=waits
            )
        else:
            done = self._escalating.escalate(
                value, team, asker=by, note=note, anonymous=anonymous, await_choice=waits
            )
        return Pressed(
            "escalate", case=done.case, escalated=done, private=by.public, deliver=not done.again
        )

    def _amend(self, action: str, case_id: str, person: str, inputs: Inputs | None) -> Pressed:
        if action == "amend" and inputs is None:
            case = self._reviewing.case(case_id)
            # The choice is offered after passing the question on: the card may wait for it.
            form = amend_form(case, await_choice=True)
            return Pressed(action, case=case, form=form, close_counts=True)
        if action == "keep_name":
            case = self._escalating.keep_name(case_id, by=person)
            return Pressed(action, case=case, redraw=not case.announcing, deliver=True)
        given = inputs or {}
        note, withheld = str(given.get("note") or "").strip(), given.get("anonymous") is True
        case = self._escalating.add_to_case(case_id, by=person, note=note, anonymous=withheld)
        # A card held for the asker's choice goes out now; one already posted is redrawn.
        return Pressed(
            action,
            say=phrases.added_to_case(case, withheld_now=withheld),
            title=phrases.added_title(case.id),
            case=case,
            redraw=not case.announcing,
            deliver=True,
        )

    def _step(self, action: str, case_id: str, person: str, inputs: Inputs | None) -> Pressed:
        if action == "reply" and inputs is None:
            case = self._reviewing.may(case_id, "reply", by=person)
            return Pressed(action, case=case, form=reply_form(case), quote=case.question)
        text = str((inputs or {}).get("reply") or "")
        case = self._reviewing.act(case_id, action, by=person, text=text)
        # A reply for the asker, a reopened case for the team.
        return Pressed(action, case=case, redraw=True, lists_changed=True, deliver=True)

    def _approve(self, case_id: str, person: str, inputs: Inputs | None) -> Pressed:
        if inputs is None:
            case = self._approving.may_approve(case_id, by=person)
            return Pressed("approve", case=case, form=approve_form(case, draft_of(case)))
        typed = {key: str(value or "") for key, value in inputs.items()}
        saved = self._approving.approve(
            case_id,
            by=person,
            text=typed.get("text", ""),
            question=typed.get("question") or None,
            clauses=parse_clause_list(typed.get("clauses", "")),
        )
        return Pressed(
            "approve", say=approved_receipt(saved), title=phrases.APPROVED_SAVED, approved=saved
        )
