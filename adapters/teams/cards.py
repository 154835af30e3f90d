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
from collections.abc import Iterable
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot import phrases
from bot.answers.offers import answer_offers
from bot.case_views import MAX_NOTE, CaseView
from bot.models import TEAM_NAMES, Answer, Citation, Team

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
QUOTE_CHARS = 700
NOTE_INPUT = "case_note"
ANONYMOUS_INPUT = "case_anonymous"
EXAMPLES = ("Can I use Facebook at lunchtime?", "A journalist has phoned me. What should I do?")


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


def _heading(citation: Citation) -> str:
    document = citation.document_title or citation.source
    return f"{document} — {citation.section} {citation.title}".strip()


def _quote(citation: Citation) -> str:
    quote = citation.quote.strip()
    return quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"


def escalate_action(team: Team, answer_id: str, *, suggested: bool) -> Card:
    """Ask a team: shows a note and an anonymity choice, then submits the escalation."""
    name = TEAM_NAMES[team]
    form = card(
        [
            text(f"The {name} will see your question, my answer and the clauses it cites."),
            _input_text(f"note_{team}", f"Anything to add for the {name}? (optional)"),
            _toggle(
                f"anonymous_{team}",
                "Don't show my name to the team (your question is shown as written)",
            ),
        ],
        [
            {
                "type": "Action.Submit",
                "title": f"Send to the {name}",
                "data": {"action": "escalate", "team": team, "answer_id": answer_id},
            }
        ],
    )
    title = f"Ask the {name}" + (" (suggested)" if suggested else "")
    return {"type": "Action.ShowCard", "title": title, "card": form}


def feedback_action(helpful: bool, answer_id: str) -> Card:
    return {
        "type": "Action.Submit",
        "title": "Helpful" if helpful else "Not helpful",
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
    """The answer, its clauses and its buttons."""
    body: list[Card] = [text(answer.text)]
    body += [text(notice, isSubtle=True, color="Warning") for notice in answer.notices]
    if answer.citations:
        label = "The clauses this rests on" if answer.answered else "The closest clauses"
        body.append(text(label, weight="Bolder", spacing="Medium"))
        for citation in answer.citations:
            items = [
                text(_heading(citation), weight="Bolder"),
                text(_quote(citation), isSubtle=True),
            ]
            body.append({"type": "Container", "separator": True, "items": items})
    if answer.escalation.suggested and answer.escalation.reason:
        body.append(text(answer.escalation.reason, weight="Bolder", spacing="Medium"))
    sources = "; ".join(f"{c.document_title or c.source} {c.section}" for c in answer.citations)
    speak = plain(answer.text) + (f" Sources: {sources}." if sources else "")
    return message(card(body, answer_actions(answer), speak=speak), answer.text)


def welcome_message() -> Activity:
    """What the bot says when it is installed, or asked for help."""
    intro = (
        "I answer questions about the Council's **Electronic Communication and Social Media "
        "Policy** and its guidance, quoting the clauses each answer rests on. When you need "
        "a person, I can pass your question to the HR Advisory team or the Communications "
        "team, and their reply comes back to you here."
    )
    where = "Ask me here, or @mention me in a channel or group chat."
    body = [text("Hello, I'm PolicyBot", size="Large", weight="Bolder"), text(intro), text(where)]
    actions = [
        {"type": "Action.Submit", "title": example, "data": {"msteams": _im_back(example)}}
        for example in EXAMPLES
    ]
    return message(card(body, actions, speak=plain(f"{intro} {where}")), intro)


def _im_back(value: str) -> Card:
    return {"type": "imBack", "value": value}


def escalated_message(case: CaseView, *, again: bool = False) -> Activity:
    """The receipt for an escalation, in the asker's personal chat: the case id, and what
    happens next; ``again`` when they had passed the question on before."""
    name = TEAM_NAMES[case.team]
    receipt = phrases.passed_on(case.id, case.team, again=again)
    lines = [receipt]
    if case.anonymous:
        lines.append("They see your question without your name.")
    lines.append(f"Their reply will come to you here. Quote {case.id} if you contact them.")
    body = [text(" ".join(lines))]
    if case.note:
        body.append(text(f"Your note: {escape(case.note)}", isSubtle=True))
    body.append(_input_text(NOTE_INPUT, f"Anything to add for the {name}? (optional)"))
    if not case.anonymous:
        body.append(
            _toggle(ANONYMOUS_INPUT, "Stop showing my name (they may have seen it already)")
        )
    data = {"action": "add_to_case", "case_id": case.id}
    add = {"type": "Action.Submit", "title": f"Add to {case.id}", "data": data}
    return message(card(body, [add], speak=plain(" ".join(lines))), receipt)


def _input_text(input_id: str, label: str) -> Card:
    return {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isMultiline": True,
        "maxLength": MAX_NOTE,
    }


def _toggle(input_id: str, title: str) -> Card:
    return {
        "type": "Input.Toggle",
        "id": input_id,
        "title": title,
        "value": "false",
        "valueOn": "true",
        "valueOff": "false",
    }
