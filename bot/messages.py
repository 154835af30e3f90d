"""Every message PolicyBot sends, as one platform-neutral model, built once for Slack and Teams.

A :class:`Message` is a one-line ``summary`` (notifications, screen readers, clients that draw
no cards) and an ordered list of parts. Each adapter has one renderer that draws any message:
Slack as a fallback text and Block Kit, Teams as an Adaptive Card (or as text, when the message
is only text). The parts:

- :class:`Heading`: a title (plain text).
- :class:`Text`: a paragraph made of runs: the core's neutral markdown (``str``), someone's
  words to show as written (:class:`Plain`), a person (:class:`~bot.cards.Person`, whom each
  platform names its own way), or a moment (:class:`Moment`). Its
  ``style`` says how it stands out: ``body``, ``muted`` (a context line), ``strong`` or
  ``notice`` (a warning); its ``mark`` is a small sign a platform may put before it.
- :class:`Quote`: words under a label (the question on a case card, a clause an answer quotes).
- :class:`Facts`: labelled facts (a case's status, asker, where and when).
- :class:`Divider`.
- :class:`Buttons`: steps to take. A :class:`Button` has a neutral ``action`` (``claim``,
  ``escalate``...), its label, the ``value`` it carries (a case or answer id), the other
  ``data`` it carries, a style, and the :mod:`bot.forms` form the step takes, if any. Each
  renderer names it as its platform's old cards already do (``case_claim`` in Slack,
  ``{"action": "claim", "case_id": ...}`` in Teams), so that old buttons keep working.

What each message says and offers is decided here, from the core's views (:mod:`bot.cards`,
:mod:`bot.forms`) and wording (:mod:`bot.phrases`); a renderer adds only its platform's markup,
marks and limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot import cards, phrases
from bot.approved.clauses import draft_of
from bot.case_views import CARD_REPLIES, CaseView
from bot.cases.announcements import Preview
from bot.forms import Form, amend_form, approve_form, escalation_form
from bot.models import TEAM_NAMES, TEAMS, Answer, Team
from bot.ops.digest import Digest

Person = cards.Person
Style = Literal["body", "muted", "strong", "notice"]
Mark = Literal["done", "refused", "reload", "alarm", "suggested", "celebrate"]
ButtonStyle = Literal["primary", "danger", ""]

QUESTION_VALUE = "ask:"
"""The prefix of an escalate button's value that carries a question instead of an answer id."""
HOME_CASES = 20
"""The most cases a list of a team's cases shows."""
OWN_CASES = 10
"""The most of their own cases a person's list shows."""
SUMMARY_QUESTION = 200
"""The most characters of a question a case's summary line repeats."""


@dataclass(frozen=True)
class Plain:
    """Words to show as written (a person's question, a name, a core sentence with no
    markdown): a renderer makes any markup in them inert. ``em`` shows them emphasised;
    ``code`` as preformatted text."""

    text: str
    em: bool = False
    code: bool = False


@dataclass(frozen=True)
class Moment:
    """A point in time, which a platform may show in the reader's time zone."""

    at: datetime


Run = str | Plain | Person | Moment
"""A piece of a paragraph; a ``str`` is the core's neutral markdown."""


@dataclass(frozen=True)
class Heading:
    """A title in plain text; ``level`` 1 for a message's own, 2 for a smaller one."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Text:
    """A paragraph (see the module's docstring)."""

    runs: tuple[Run, ...]
    style: Style = "body"
    mark: Mark | None = None


@dataclass(frozen=True)
class Quote:
    """Words under a bold label: someone's (shown as written) or, with ``markdown``, the
    core's; ``muted`` shows them quieter. ``over``: a line above instead of the label."""

    label: str
    text: str
    markdown: bool = False
    muted: bool = False
    over: tuple[Run, ...] = ()


@dataclass(frozen=True)
class Fact:
    """A labelled fact; ``status`` marks a case's status line, beside which a platform may
    put its own sign."""

    label: str
    runs: tuple[Run, ...]
    status: str | None = None


@dataclass(frozen=True)
class Facts:
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class Divider:
    """A line between parts."""


@dataclass(frozen=True)
class Button:
    """A step to take.

    Attributes:
        action: what it does, the same on every platform (``claim``, ``escalate``...).
        label: its words.
        value: what it carries (the case or answer id, or JSON).
        data: what else it carries, by name (``{"case_id": ...}``).
        style: ``primary`` for the step most likely taken, ``danger``, or "".
        form: the form the step takes, which a platform shows on the message or opens.
        ask: pressing it asks these words, as if typed.
        url: it opens this address (and carries nothing).
    """

    action: str
    label: str
    value: str = ""
    data: Mapping[str, str | bool] = field(default_factory=dict)
    style: ButtonStyle = ""
    form: Form | None = None
    ask: bool = False
    url: str = ""


@dataclass(frozen=True)
class Buttons:
    """A row of buttons; ``group`` names the row (a Slack ``block_id``), or is ""."""

    buttons: tuple[Button, ...]
    group: str = ""


Part = Heading | Text | Quote | Facts | Divider | Buttons


@dataclass(frozen=True)
class Message:
    """A message as every platform shows it: ``summary`` (neutral markdown, one line) for
    notifications, ``parts`` in order, and ``speak`` for a screen reader when it should say
    more or less than the summary."""

    summary: str
    parts: tuple[Part, ...]
    speak: str = ""

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(b for part in self.parts if isinstance(part, Buttons) for b in part.buttons)


SLOT = "\x00"
PERSON_ID = re.compile(r"\b(?:slack|teams):[\w:-]*\w")
"""A person named by id in a core sentence (a refusal)."""


def slots(sentence: str, *fillers: Run) -> tuple[Run, ...]:
    """``sentence`` (worded with :data:`SLOT` where a person or someone's words go) as runs."""
    pieces = sentence.split(SLOT)
    runs: list[Run] = []
    for index, piece in enumerate(pieces):
        if piece:
            runs.append(piece)
        if index < len(fillers) and index < len(pieces) - 1:
            runs.append(fillers[index])
    return tuple(runs)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, ending with "…" when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def text(*runs: Run, style: Style = "body", mark: Mark | None = None) -> Text:
    return Text(tuple(runs), style, mark)


# Answers


def answer(answer: Answer, *, share: bool = False, shared_by: str = "") -> Message:
    """An answer (:func:`bot.cards.answer_card`): who shared it, its notices, its text, the
    clauses it quotes, the line under it, and feedback and escalation buttons.

    Args:
        answer: the core's answer.
        share: offer to show it to the channel (a private answer to a command).
        shared_by: who showed it to the channel (``platform:user``), if someone did.
    """
    view = cards.answer_card(answer)
    parts: list[Part] = []
    if shared_by:
        said = slots(phrases.shared_by(SLOT), Person(shared_by))
        parts.append(text(*said, " ", Plain(answer.question, em=True), style="muted"))
    parts += [text(Plain(notice), style="notice") for notice in view.notices]
    parts.append(text(view.text))
    if view.clauses:
        parts.append(text(view.clauses_heading, style="strong"))
        parts += [Quote(clause.heading, clause.quote, muted=True) for clause in view.clauses]
    if view.under:
        mark: Mark | None = "suggested" if view.suggested else None
        parts.append(text(Plain(view.under), style="strong", mark=mark))
    offers = tuple(
        escalate_button(offer.team, answer.id, suggested=offer.suggested)
        if offer.team
        else Button(
            "feedback",
            phrases.FEEDBACK[offer.helpful],
            answer.id,
            {"helpful": offer.helpful, "answer_id": answer.id},
        )
        for offer in view.offers
    )
    if offers:
        parts.append(Buttons(offers, "answer_actions"))
    if share:
        parts.append(Buttons((Button("share", phrases.SHARE, answer.id),)))
    sources = "; ".join(f"{c.document_title or c.source} {c.section}" for c in answer.citations)
    speak = answer.text + (f" Sources: {sources}." if sources else "")
    return Message(answer.text, tuple(parts), speak)


def escalate_button(team: Team, value: str, *, suggested: bool = False) -> Button:
    """Pass the question to ``team``, with the core's form (a note, anonymity)."""
    return Button(
        "escalate",
        phrases.ask_team(team, short=True),
        value,
        {"team": team, "answer_id": value},
        "primary" if suggested else "",
        escalation_form(team, suggested=suggested),
    )


def welcome(platform: str) -> Message:
    """What the bot says when installed or asked for help (:func:`bot.phrases.welcome`), with
    questions to try."""
    said = phrases.welcome(platform)
    ways = "\n".join(f"- {way}" for way in said.ways)
    parts: list[Part] = [Heading(said.title), text(said.intro)]
    if ways:
        parts.append(text(ways))
    parts.append(text(said.for_admins, style="muted"))
    examples = tuple(Button("ask", example, example, ask=True) for example in said.examples)
    parts.append(Buttons(examples, "examples"))
    return Message(phrases.HOW_TO_ASK, tuple(parts), " ".join((said.intro, *said.ways)))


def apology(question: str = "") -> Message:
    """The one reply to an unexpected failure: no details, and a way to reach a person; with
    the ``question``, buttons that pass it to a team."""
    if not question:
        return Message(phrases.APOLOGY, (text(f"{phrases.APOLOGY} {phrases.REACH_A_PERSON}"),))
    value = QUESTION_VALUE + question[: 2000 - len(QUESTION_VALUE)]
    buttons = Buttons(tuple(escalate_button(team, value) for team in TEAMS))
    return Message(phrases.APOLOGY, (text(f"{phrases.APOLOGY} {phrases.IF_IT_CANT_WAIT}"), buttons))


def refusal(message: str) -> Message:
    """A core refusal or an impossible step, whose message is safe to show as it is; the
    people it names by id (``slack:U123``) are shown as their platform names them."""
    runs: list[Run] = []
    start = 0
    for named in PERSON_ID.finditer(message):
        runs += [Plain(message[start : named.start()]), Person(named.group())]
        start = named.end()
    runs.append(Plain(message[start:]))
    return Message(message, (Text(tuple(r for r in runs if r != Plain("")), mark="refused"),))


def notice(markdown: str) -> Message:
    """A message that is only the core's words (an announcement, a confirmation)."""
    return Message(markdown, (text(markdown),))


def escalated(case: CaseView, *, again: bool = False, await_choice: bool = False) -> Message:
    """The asker's receipt for an escalation, with the form to add a note or stay anonymous
    (:func:`bot.forms.amend_form`; with ``await_choice`` the team's card waits for it)."""
    detail = phrases.passed_on_detail(case, again=again, await_choice=await_choice)
    parts: list[Part] = [text(Plain(detail), mark="done")]
    if case.note:
        parts.append(text(*slots(phrases.your_note(SLOT), Plain(case.note)), style="muted"))
    form = amend_form(case, await_choice=await_choice)
    add = Button("add_to_case", phrases.ADD_TO_CASE, case.id, {"case_id": case.id}, form=form)
    parts.append(Buttons((add,)))
    return Message(phrases.passed_on(case.id, case.team, again=again), tuple(parts), detail)


def reloaded(by: Person, report: str) -> Message:
    """A reload's report in chat: who reloaded, and what changed."""
    said = slots(phrases.reloaded(SLOT), by)
    return Message(
        phrases.reloaded(by.words or by.id or ""),
        (text(*said, mark="reload"), text(Plain(report, code=True))),
    )


def reply(case: CaseView, reply: str) -> Message:
    """A reviewer's reply (neutral markdown), as the asker receives it."""
    heading = phrases.reply_heading(case)
    parts = (text(f"**{heading}:**"), Quote(phrases.YOU_ASKED, case.question), text(reply))
    return Message(f"{heading}: {reply}", parts)


# Cases


def case_card(case: CaseView, *, replies: int = CARD_REPLIES, remark: str = "") -> Message:
    """The team's card for a case (:func:`bot.cards.case_card`): its facts, the question, the
    note, the bot's answer, the clauses, the latest ``replies`` replies, and its steps.

    Args:
        case: the case as it is now.
        replies: the most replies shown (a platform short of room shows fewer).
        remark: why the card was posted again, if it was (above its buttons).
    """
    view = cards.case_card(case)
    labels = phrases.CARD_LABELS
    parts: list[Part] = [
        Heading(view.title, level=2),
        Facts(tuple(Fact(f.label, _field(f), f.status) for f in view.fields)),
        Quote(labels["question"], view.question),
    ]
    if view.note:
        parts.append(Quote(labels["note"], view.note))
    if view.answer:
        parts.append(Quote(labels["answer"], view.answer, markdown=True, muted=True))
    if view.clauses:
        clauses = ", ".join(view.clauses)
        parts.append(text(Plain(f"{labels['clauses']}: {clauses}"), style="muted"))
    earlier, shown = view.latest(replies)
    if earlier:
        parts.append(text(phrases.earlier_replies(earlier), style="muted"))
    for event in shown:
        parts.append(
            text(*slots(phrases.reply_from(SLOT, SLOT), Person(event.by), Plain(event.text)))
        )
    if view.on_its_way:
        parts.append(text(Plain(view.on_its_way), style="muted"))
    if remark:
        parts.append(text(Plain(remark), style="muted"))
    parts.append(Buttons(case_steps(view), f"card:{case.id}"))
    if view.approve:
        draft_form = approve_form(case, draft_of(case))
        approve = Button("approve", view.approve, case.id, {"case_id": case.id}, form=draft_form)
        parts.append(Buttons((approve,), f"approve:{case.id}"))
    question = shorten(case.question, SUMMARY_QUESTION)
    summary = f"{case.id} for the {TEAM_NAMES[case.team]}: {question}"
    return Message(summary, tuple(parts), view.summary)


def case_steps(view: cards.CaseCard) -> tuple[Button, ...]:
    """The steps the core offers on a case now, Claim first; Reply takes the reply form."""
    return tuple(
        Button(
            b.step,
            b.title,
            b.value,
            {"case_id": b.value},
            "primary" if b.primary else "",
            view.reply_form if b.step == "reply" else None,
        )
        for b in view.buttons
    )


def _field(field: cards.CardField) -> tuple[Run, ...]:
    """A card's fact: words (after the status's), a person (after the words), a moment."""
    if field.when is not None:
        return (Moment(field.when),)
    runs: list[Run] = [Plain(field.words)] if field.words else []
    if field.person is not None:
        if runs:
            runs.append(" · ")
        person = field.person
        runs.append(person if person.id else Plain(person.words, em=True))
    return tuple(runs)


def case_line(case: CaseView, *, mine: bool = False, steps: bool = True) -> tuple[Part, ...]:
    """A case in a list: its id, who asked (or, for the asker, which team), its status, the
    question; and, for reviewers, its steps."""
    view = cards.case_card(case)
    status, asked_by = view.fields[:2]
    by: tuple[Run, ...] = (Plain(TEAM_NAMES[case.team]),) if mine else _field(asked_by)
    head = (f"**{case.id}** · ", *by, " · ", *_field(status))
    parts: list[Part] = [Quote("", shorten(case.question, 300), over=head)]
    if steps and not mine:
        parts.append(Buttons(case_steps(view), f"list:{case.id}"))
    return tuple(parts)


def _more(cases: Sequence[CaseView], shown: int) -> tuple[Part, ...]:
    return (
        (text(phrases.more_cases(len(cases) - shown), style="muted"),) if len(cases) > shown else ()
    )


def reminder(
    team: Team, cases: Sequence[CaseView], sla_hours: float, *, steps: bool = True
) -> Message:
    """An SLA reminder: the team's cases nobody has claimed in time, each with its steps
    (``steps``: on a platform whose buttons act on the card they are on, without)."""
    heading = phrases.reminder_heading(team, len(cases), sla_hours)
    parts: list[Part] = [text(f"**{heading}**", mark="alarm")]
    for case in cases[:HOME_CASES]:
        parts += case_line(case, steps=steps)
    parts += _more(cases, HOME_CASES)
    return Message(heading, tuple(parts))


def home(
    own: Sequence[CaseView],
    teams: Mapping[Team, Sequence[CaseView]],
    *,
    platform: str,
    digest: Digest | None = None,
) -> Message:
    """A person's home: how to ask, their own cases, for reviewers their teams' live cases
    with their steps, and for admins the insights ``digest`` (:func:`insights`)."""
    parts: list[Part] = [Heading("PolicyBot"), how_to_ask(platform)]
    parts.append(Heading("Your cases"))
    if not own:
        parts.append(text(phrases.NO_CASES_YET, style="muted"))
    for case in own[:OWN_CASES]:
        parts += case_line(case, mine=True)
    for team, cases in teams.items():
        parts.append(Heading(phrases.team_cases_heading(team)))
        if not cases:
            parts.append(text(phrases.NOTHING_WAITING, style="muted", mark="celebrate"))
        for case in cases[:HOME_CASES]:
            parts += case_line(case)
        parts += _more(cases, HOME_CASES)
    if digest is not None:
        parts += insights(digest).parts
    return Message("PolicyBot", tuple(parts))


def how_to_ask(platform: str) -> Text:
    """How to ask on ``platform``, in one paragraph (help, and a home's top)."""
    said = phrases.welcome(platform)
    lines = [said.intro, *(f"- {way}" for way in said.ways), said.for_admins]
    return text("\n".join(lines))


# Admins


def insights(digest: Digest) -> Message:
    """The admins' weekly digest (:mod:`bot.ops.digest`), with the full report linked or
    the command that writes it."""
    lines: list[Run] = [f"**{digest.since_line}**"]
    for line in digest.lines:
        lines += ["\n- ", Plain(line)]
    if not digest.link:
        lines += ["\n\n", Plain(digest.full_report)]
        parts: tuple[Part, ...] = (Heading(digest.title), Text(tuple(lines)))
    else:
        lines += ["\n\n", Plain(digest.link_note)]
        link = Button("open_report", digest.link_label, url=digest.link)
        parts = (Heading(digest.title), Text(tuple(lines)), Buttons((link,)))
    summary = f"{digest.title}, {digest.since_line.lower()}: " + " ".join(digest.lines)
    return Message(summary, parts)


def preview(preview: Preview) -> Message:
    """An announcement's preview for the admin: what would be posted where, then Confirm and
    Cancel when there is news (Confirm carries the versions shown)."""
    parts: list[Part] = [text(preview.summary())]
    if preview.confirmable:
        shown = {"since": preview.since, "version": preview.version}
        confirm = Button(
            "announce_confirm", phrases.CONFIRM_ANNOUNCE, json.dumps(shown), shown, "primary"
        )
        parts.append(Buttons((confirm, Button("announce_cancel", phrases.CANCEL, "cancel"))))
    return Message(preview.text, tuple(parts))
