"""The forms PolicyBot shows people, as platform-neutral views: their titles, fields, labels,
hints and buttons, worded once.

Slack draws a :class:`Form` as a modal, Teams as an Adaptive Card (its fields become the card's
inputs). Each field has a ``key`` that names what it holds (``note``, ``anonymous``,
``reply``...); an adapter may name the input its own way, and reads the submission back by
the same keys. Limits are the core's (:data:`bot.case_views.MAX_NOTE`...): a platform that
takes less (Block Kit's 3,000 characters an input) cuts them further.

The forms:

- :func:`escalation_form`: passing an answer to a team, with a note and the choice to stay
  anonymous made before the team sees anything (Teams, whose card shows it under the answer).
- :func:`amend_form`: the asker adds a note to an open case, or withholds their name (both).
- :func:`reply_form`: a reviewer's reply to the asker (both).
- :func:`approve_form`: saving a reply as an approved answer (both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.approved.views import (
    CLAUSES_HINT,
    MAX_ANSWER,
    MAX_QUESTION,
    QUESTION_HINT,
    ApprovalDraft,
    form_intro,
)
from bot.case_views import MAX_NOTE, MAX_TEXT, THREAD_REPLIES, CaseView
from bot.models import TEAM_NAMES, Team
from bot.phrases import SAVE_APPROVED, ask_team

FieldKind = Literal["text", "multiline", "choice"]

MAX_CLAUSES = 500
"""The longest list of clauses typed into the approval form."""


@dataclass(frozen=True)
class Field:
    """One thing a form asks for.

    Attributes:
        key: what the field holds; the submission is read back by it.
        label: what the field is called. For a ``choice``, the words beside the box.
        kind: ``text`` (one line), ``multiline``, or ``choice`` (a box to tick, read as a bool).
        hint: a line under the field, if any.
        value: what the field starts with.
        max_length: the most characters it takes (0 for a choice).
        optional: it may be left empty.
        heading: for a ``choice``, the label of the group its box sits in ("Anonymity").
    """

    key: str
    label: str
    kind: FieldKind = "multiline"
    hint: str = ""
    value: str = ""
    max_length: int = 0
    optional: bool = False
    heading: str = ""


@dataclass(frozen=True)
class Form:
    """A form as every platform shows it.

    Attributes:
        title: the form's name (a modal's title; the button that shows the form in a card).
        submit: the button that sends it.
        fields: what it asks for, in order.
        intro: what it says before the fields (plain text), if anything.
        notes: what it says after the fields (plain text), each a paragraph.
    """

    title: str
    submit: str
    fields: tuple[Field, ...]
    intro: str = ""
    notes: tuple[str, ...] = ()


def note_field(team: Team) -> Field:
    """The asker's note for a team, which every form that hands a question over offers."""
    return Field(
        "note", f"Anything to add for the {TEAM_NAMES[team]}?", max_length=MAX_NOTE, optional=True
    )


def escalation_form(team: Team, *, suggested: bool = False) -> Form:
    """Passing an answer to ``team``: a note, and the choice to stay anonymous, made before the
    team sees anything. ``suggested``: the engine suggests this team."""
    name = TEAM_NAMES[team]
    anonymous = Field(
        "anonymous",
        "Don't show my name to the team (your question is shown as written)",
        kind="choice",
    )
    return Form(
        title=ask_team(team, suggested=suggested),
        submit=f"Send to the {name}",
        fields=(note_field(team), anonymous),
        intro=f"The {name} will see your question, my answer and the clauses it cites.",
    )


#: What the asker is told about their choice while the team's card waits for it.
HELD_FOR_CHOICE = (
    "The team is shown the case when you save or cancel this form, or two minutes after you "
    "passed it on, whichever comes first. Choose this before then and they never see your "
    "name. If you choose it later, the case card is rewritten without your name and no record "
    "of the case will show it from now on, but someone may already have read it."
)
SEEN_ALREADY = (
    "If you choose this, the case card is rewritten without your name and no record of the "
    "case will show it from now on, but someone may already have read it."
)
"""What the asker is told about their choice once the team may have seen the case."""
ALREADY_WITHHELD = "Your name is already withheld from the team."


def amend_form(case: CaseView, *, await_choice: bool) -> Form:
    """The asker's form for an open case: a note for the team, and withholding their name.

    Args:
        case: the case.
        await_choice: the asker was offered the choice of anonymity only after passing the
            question on, and the team's card waits for it (see
            :meth:`bot.assistant.Assistant.escalate`) while it has not gone out; once it has,
            or without ``await_choice``, the team may have seen the asker's name.
    """
    fields = [note_field(case.team)]
    notes: list[str] = []
    if case.anonymous:
        notes.append(ALREADY_WITHHELD)
    elif await_choice and case.announcing:
        fields.append(
            Field("anonymous", "Don't show my name to the team", "choice", heading="Anonymity")
        )
        notes.append(HELD_FOR_CHOICE)
    else:
        fields.append(
            Field(
                "anonymous",
                "Stop showing my name (they may have seen it already)",
                "choice",
                heading="Anonymity",
            )
        )
        notes.append(SEEN_ALREADY)
    return Form(title=f"Add to {case.id}", submit="Save", fields=tuple(fields), notes=tuple(notes))


def reply_hint(case: CaseView) -> str:
    """Where a reviewer's reply goes, which depends on where the asker asked."""
    if case.platform in THREAD_REPLIES:
        return (
            "Sent to the asker by direct message, and in the thread where they asked when "
            "that was a channel thread (never for anonymous cases)."
        )
    return "Sent to the asker in a private message from PolicyBot."


def reply_form(case: CaseView) -> Form:
    """A reviewer's reply to the asker."""
    reply = Field("reply", "Your reply to the asker", hint=reply_hint(case), max_length=MAX_TEXT)
    return Form(title=f"Reply to {case.id}", submit="Send reply", fields=(reply,))


def approve_form(case: CaseView, draft: ApprovalDraft) -> Form:
    """Saving a reply as an approved answer: the question, the text and the clauses, each
    starting from ``draft``."""
    return Form(
        title=SAVE_APPROVED,
        submit="Approve",
        intro=form_intro(case.id),
        fields=(
            Field(
                "question",
                "The question it answers",
                hint=QUESTION_HINT,
                value=draft.question,
                max_length=MAX_QUESTION,
            ),
            Field(
                "text",
                "The approved answer",
                hint="Shown to staff as it is.",
                value=draft.text,
                max_length=MAX_ANSWER,
            ),
            Field(
                "clauses",
                "The clauses it rests on",
                "text",
                hint=CLAUSES_HINT,
                value=draft.clause_list,
                max_length=MAX_CLAUSES,
            ),
        ),
    )
