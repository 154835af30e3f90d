"""Adaptive Cards (schema 1.5) for staff: the answer, the welcome, the escalation receipt.

Each card carries ``speak`` (what a screen reader or voice client reads) and each message a
plain-text ``summary`` (notifications, and clients that cannot draw cards). The cards have no
images, so there is no ``altText`` to give.

Button data, read back by :mod:`adapters.teams.actions`:
``{"action": "escalate", "team": "hr" | "communications", "answer_id": ...}`` with the inputs
``note_<team>`` and ``anonymous_<team>``; ``{"action": "feedback", "helpful": bool,
"answer_id": ...}``; on the escalation receipt ``{"action": "add_to_case", "case_id": ...}``
with the inputs ``case_note`` and ``case_anonymous``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot import cards, phrases
from bot.answers.offers import answer_offers
from bot.case_views import CaseView
from bot.forms import Field, Form, amend_form, escalation_form
from bot.models import Answer, Team

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
NOTE_INPUT = "case_note"
ANONYMOUS_INPUT = "case_anonymous"


def card(body: Iterable[Card], actions: Iterable[Card] = (), *, speak: str = "") -> Card:
    """An Adaptive Card 1.5."""
    made: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": list(body)}
    listed = list(actions)
    if listed:
        made["actions"] = listed
    if speak:
        made["speak"] = speak
    return made


def text(value: str, **options: Any) -> Card:
    """A wrapping TextBlock (Teams renders a subset of markdown in it)."""
    return {"type": "TextBlock", "text": value, "wrap": True, **options}


_MARKS = re.compile(r"([\\`*_\[\]()<>#~|])")
_LINE_MARKS = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)


def escape(value: str) -> str:
    """User-supplied text made inert in a markdown TextBlock or fact: every character
    markdown gives a meaning (links, emphasis, headings, code, HTML) is backslashed, and so
    is a list or heading mark at the start of a line; ``[label](https://x)`` shows as written
    instead of as a link."""
    escaped = _MARKS.sub(r"\\\1", value)
    escaped = _LINE_MARKS.sub(r"\1\\\2", escaped)
    return _NUMBERED.sub(r"\1\\.", escaped)


def shorten(value: str, limit: int) -> str:
    """At most ``limit`` characters of ``value``, marked when cut (before :func:`escape`,
    so that no escape is cut in half)."""
    value = value.strip()
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)].rstrip() + "…"


def plain(markdown: str) -> str:
    """Markdown without its marks, for ``speak`` and ``summary``."""
    stripped = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    stripped = re.sub(r"[*_`#>]+", "", stripped)
    return re.sub(r"\s+", " ", stripped).strip()


def message(content: Card, summary: str) -> Activity:
    """A message carrying one card, with its plain-text summary."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(content))
    activity.summary = plain(summary)[:300]
    activity.speak = content.get("speak") or activity.summary
    return activity


def escalate_action(team: Team, answer_id: str, *, suggested: bool) -> Card:
    """Ask a team: shows the core's form (a note, the anonymity choice), then submits the
    escalation."""
    form = escalation_form(team, suggested=suggested)
    data = {"action": "escalate", "team": team, "answer_id": answer_id}
    return show_card(form, data, lambda key: f"{key}_{team}")


def feedback_action(helpful: bool, answer_id: str) -> Card:
    return {
        "type": "Action.Submit",
        "title": phrases.FEEDBACK[helpful],
        "data": {"action": "feedback", "helpful": helpful, "answer_id": answer_id},
    }


def answer_actions(answer: Answer) -> list[Card]:
    """Feedback and escalation, as the core offers them
    (:func:`bot.answers.offers.answer_offers`)."""
    return [
        escalate_action(offer.team, answer.id, suggested=offer.suggested)
        if offer.team
        else feedback_action(offer.helpful, answer.id)
        for offer in answer_offers(answer)
    ]


def answer_message(answer: Answer) -> Activity:
    """The answer, its clauses and its buttons (:func:`bot.cards.answer_card`)."""
    view = cards.answer_card(answer)
    body = [text(notice, isSubtle=True, color="Warning") for notice in view.notices]
    body.append(text(view.text))
    if view.clauses:
        body.append(text(view.clauses_heading, weight="Bolder", spacing="Medium"))
        for clause in view.clauses:
            items = [text(clause.heading, weight="Bolder"), text(clause.quote, isSubtle=True)]
            body.append({"type": "Container", "separator": True, "items": items})
    if view.under:
        body.append(text(view.under, weight="Bolder", spacing="Medium"))
    sources = "; ".join(f"{c.document_title or c.source} {c.section}" for c in answer.citations)
    speak = plain(answer.text) + (f" Sources: {sources}." if sources else "")
    return message(card(body, answer_actions(answer), speak=speak), answer.text)


def welcome_message() -> Activity:
    """What the bot says when it is installed, or asked for help (:func:`bot.phrases.welcome`)."""
    welcome = phrases.welcome("teams")
    body = [text(welcome.title, size="Large", weight="Bolder"), text(welcome.intro)]
    body += [text(way) for way in welcome.ways] + [text(welcome.for_admins, isSubtle=True)]
    actions = [
        {"type": "Action.Submit", "title": example, "data": {"msteams": _im_back(example)}}
        for example in welcome.examples
    ]
    speak = plain(" ".join((welcome.intro, *welcome.ways)))
    return message(card(body, actions, speak=speak), welcome.intro)


def _im_back(value: str) -> Card:
    return {"type": "imBack", "value": value}


def escalated_message(case: CaseView, *, again: bool = False) -> Activity:
    """The receipt for an escalation, in the asker's personal chat: the case id, what happens
    next, and the core's form to add a note or withhold their name (the choice was offered
    before, so the team may have seen the case); ``again`` when they had passed it on before."""
    receipt = phrases.passed_on_detail(case, again=again)
    body = [text(receipt)]
    if case.note:
        body.append(text(phrases.your_note(escape(case.note)), isSubtle=True))
    form = amend_form(case, await_choice=False)
    body += inputs(form, lambda key: f"case_{key}")
    add = submit(form.title, {"action": "add_to_case", "case_id": case.id})
    return message(card(body, [add], speak=plain(receipt)), receipt)


Ids = Callable[[str], str]
"""The input id a card gives a form's field, by its key: several forms may share a card."""


def inputs(form: Form, ids: Ids) -> list[Card]:
    """A form's fields as Adaptive Card inputs, then its notes (:mod:`bot.forms`)."""
    made = [_input(field, ids(field.key)) for field in form.fields]
    return made + [text(note, isSubtle=True) for note in form.notes]


def submit(title: str, data: Mapping[str, Any], **options: Any) -> Card:
    return {"type": "Action.Submit", "title": title, "data": dict(data), **options}


def show_card(form: Form, data: Mapping[str, Any], ids: Ids) -> Card:
    """A button titled as the form, which shows it (intro, inputs, notes) with its submit
    button, which sends ``data`` and the inputs."""
    body = [text(escape(form.intro), isSubtle=True)] if form.intro else []
    shown = card(body + inputs(form, ids), [submit(form.submit, data)])
    return {"type": "Action.ShowCard", "title": form.title, "card": shown}


def flag(value: object) -> bool:
    """A toggle's submitted value (``"true"``; a client may send a real bool)."""
    return str(value).strip().lower() in {"true", "1", "on", "yes"}


def _input(field: Field, input_id: str) -> Card:
    if field.kind == "choice":
        return {
            "type": "Input.Toggle",
            "id": input_id,
            "title": field.label,
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
        }
    label = field.label
    if field.hint:  # an input has no line for a hint: it joins the label
        label += ("" if label[-1:] in ".?!" else ".") + f" {field.hint}"
    made: Card = {
        "type": "Input.Text",
        "id": input_id,
        "label": label + (" (optional)" if field.optional else ""),
        "maxLength": field.max_length,
    }
    if field.kind == "multiline":
        made["isMultiline"] = True
    if field.value:
        made["value"] = shorten(field.value, field.max_length)
    return made
