"""The one Teams renderer: any core message (:mod:`bot.messages`) as an activity, and the
messages the bot and the notifier send, by name.

A message goes as an Adaptive Card (schema 1.5), or as text (markdown, which Teams draws)
where a chat message reads better (an announcement, a reply, a reminder). A card carries
``speak`` (what a screen reader or voice client reads), and each message a plain-text
``summary`` (notifications, and clients that cannot draw cards). The cards have no images, so
there is no ``altText`` to give.

Buttons carry ``{"action": <the core's action>, ...its data}``, as the older cards did:
``{"action": "escalate", "team": ..., "answer_id": ...}``, ``{"action": "feedback",
"helpful": ..., "answer_id": ...}``, ``{"action": "claim", "case_id": ...}``... A button that
takes a form shows it: on the card itself for the reply (input ``reply_text``) and the
receipt's note (``case_note``, ``case_anonymous``), or under the button (``Action.ShowCard``)
for passing a question on (``note_<team>``, ``anonymous_<team>``) and approving
(``approve_question``...). :func:`input_id` names them, for drawing and for reading back.

A case card (:func:`render_case`) is cut to fit a Teams message: long texts are shortened
and fewer replies shown until it is within :data:`CARD_BUDGET`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot import messages, phrases
from bot.case_views import CARD_REPLIES, CaseView
from bot.forms import Field, Form
from bot.messages import Button, Buttons, Facts, Heading, Message, Part, Quote, Run, Text

Card = dict[str, Any]
Names = Mapping[str, str]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
TEXT_LIMIT = 8000
"""The longest text of anyone's a card shows (the case card shows less to fit)."""
NAME_CHARS = 100
CARD_BUDGET = 24_000
"""The most characters a case card may take as JSON: Teams refuses a message over about
28 KB, and the activity around the card takes some too."""
_FITTINGS = ((2000, CARD_REPLIES), (1000, 3), (500, 2), (250, 1), (100, 1))
"""(characters of each text, latest replies shown), tried in turn until the card fits."""

Ids = Callable[[str], str]
"""The input id a card gives a form's field, by its key: several forms may share a card."""
FORMS = {
    "reply": ("{key}_text", "submit"),
    "add_to_case": ("case_{key}", "title"),
    "escalate": ("{key}_{team}", "show"),
    "approve": ("approve_{key}", "show"),
}
"""How each button's form is drawn: its inputs' ids (by the field's key and the button's
data), and whether it is on the card (its submit button titled as the form's ``submit`` or
``title``) or shown under the button."""


def render(
    message: Message, names: Names | None = None, *, limit: int = TEXT_LIMIT, text: bool = False
) -> Activity:
    """``message`` as an activity: a card, or with ``text`` (for a message of only texts and
    quotes, read as a chat message) as markdown.

    Args:
        message: the core's message.
        names: people's names by ``platform:user`` id, for those it names.
        limit: the most characters of anyone's words (and of a form's starting value) shown.
        text: send it as text.
    """
    if text:
        said = "\n\n".join(_markdown(part, names or {}, limit) for part in message.parts)
        activity = MessageFactory.text(said)
        activity.summary = plain(message.summary)[:300]
        return activity
    return as_message(card_of(message, names or {}, limit=limit), message.summary)


def _markdown(part: Part, names: Names, limit: int) -> str:
    """A text or a quote as markdown, for a message that goes as text."""
    if isinstance(part, Text):
        return _runs(part.runs, names, limit)
    if not isinstance(part, Quote):
        raise TypeError(f"a {type(part).__name__} cannot go as text")
    said = messages.shorten(part.text, limit)
    lines = (said if part.markdown else escape(said)).splitlines()
    quoted = "\n".join(f"> {line}" for line in lines)
    if part.over:
        return f"{_runs(part.over, names, limit)}\n\n{quoted}"
    return f"**{escape(part.label)}**\n\n{quoted}" if part.label else quoted


def card_of(message: Message, names: Names, *, limit: int = TEXT_LIMIT) -> Card:
    """``message`` as an Adaptive Card."""
    body: list[Card] = []
    actions: list[Card] = []
    for part in message.parts:
        if isinstance(part, Buttons):
            for button in part.buttons:
                actions.append(button_action(button, body, limit))
        else:
            body += _part(part, names, limit)
    speak = messages.shorten(plain(message.speak or message.summary), limit)
    return card(body, actions, speak=speak)


def _part(part: Part, names: Names, limit: int) -> list[Card]:
    if isinstance(part, Heading):
        return [text(part.text, size="Large" if part.level == 1 else "Medium", weight="Bolder")]
    if isinstance(part, Text):
        return [text(_runs(part.runs, names, limit), **STYLES[part.style])]
    if isinstance(part, Quote):
        made = [text(_runs(part.over, names, limit))] if part.over else []
        if part.label:
            made.append(text(escape(part.label), weight="Bolder"))
        said = messages.shorten(part.text, limit)
        made.append(text(said if part.markdown else escape(said), isSubtle=part.muted))
        return made
    if isinstance(part, Facts):
        facts = [{"title": f.label, "value": _runs(f.runs, names, limit)} for f in part.facts]
        return [{"type": "FactSet", "facts": facts}]
    return [{"type": "Container", "separator": True, "items": []}]


STYLES: dict[str, dict[str, Any]] = {
    "body": {},
    "muted": {"isSubtle": True},
    "strong": {"weight": "Bolder", "spacing": "Medium"},
    "notice": {"isSubtle": True, "color": "Warning"},
}


def _runs(pieces: Iterable[Run], names: Names, limit: int) -> str:
    return "".join(_run(piece, names, limit) for piece in pieces)


def _run(piece: Run, names: Names, limit: int) -> str:
    if isinstance(piece, str):
        return piece
    if isinstance(piece, messages.Plain):
        if piece.code:
            return "\n\n".join(escape(line) for line in piece.text.splitlines() if line.strip())
        cut = piece.text if len(piece.text) <= limit else messages.shorten(piece.text, limit)
        shown = escape(cut)
        return f"_{shown}_" if piece.em else shown
    if isinstance(piece, messages.Moment):
        return piece.at.strftime("%d %b %Y %H:%M UTC")
    shown = piece.words or (names.get(piece.id, piece.id) if piece.id else "")
    return escape(messages.shorten(shown, NAME_CHARS)) if shown else phrases.NOBODY_YET


def button_action(button: Button, body: list[Card], limit: int) -> Card:
    """A button; one whose form is on the card adds the form's inputs to ``body``."""
    if button.url:
        return {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
    if button.ask:
        return submit(button.label, {"msteams": {"type": "imBack", "value": button.value}})
    data = {"action": button.action, **button.data}
    style = {"primary": {"style": "positive"}, "danger": {"style": "destructive"}}
    options = style.get(button.style, {})
    if button.form is None or button.action not in FORMS:
        return submit(button.label, data, **options)
    where = FORMS[button.action][1]

    def ids(key: str) -> str:
        return input_id(button.action, key, button.data)

    form = _fitted(button.form, limit)
    if where == "show":
        return show_card(form, data, ids)
    body += inputs(form, ids)
    return submit(form.submit if where == "submit" else form.title, data, **options)


def input_id(action: str, key: str, data: Mapping[str, Any]) -> str:
    """The id of the input for a form's field ``key`` on the card, for the button of
    ``action`` with ``data``: where the form's value is read back from what the button sends."""
    return FORMS[action][0].format(key=key, team=str(data.get("team", "")))


def _fitted(form: Form, limit: int) -> Form:
    """The form with any starting value longer than ``limit`` left out rather than cut, so
    that nothing is sent half-said."""
    fields = tuple(replace(f, value="") if len(f.value) > limit else f for f in form.fields)
    return replace(form, fields=fields)


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


def plain(markdown: str) -> str:
    """Markdown without its marks, for ``speak`` and ``summary``."""
    stripped = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    stripped = re.sub(r"[*_`#>]+", "", stripped)
    return re.sub(r"\s+", " ", stripped).strip()


def as_message(content: Card, summary: str) -> Activity:
    """A message carrying one card, with its plain-text summary."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(content))
    activity.summary = plain(summary)[:300]
    activity.speak = content.get("speak") or activity.summary
    return activity


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
        made["value"] = messages.shorten(field.value, field.max_length)
    return made


def render_case(case: CaseView, names: Names, *, remark: str = "") -> Activity:
    """The case's card (:func:`bot.messages.case_card`, with ``remark`` if any) as a message,
    cut until it fits (:data:`CARD_BUDGET`)."""
    for limit, replies in _FITTINGS:
        message = messages.case_card(case, replies=replies, remark=remark)
        made = card_of(message, names, limit=limit)
        if len(json.dumps(made)) <= CARD_BUDGET:
            break
    return as_message(made, message.summary)
