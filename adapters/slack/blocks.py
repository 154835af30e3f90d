"""The one Slack renderer: any core message (:mod:`bot.messages`) as a fallback text and Block
Kit. Listeners and the notifier draw the core's messages with it:
``render(messages.case_card(case))``.

``text`` is the notification fallback that Slack shows in alerts and to screen readers,
``blocks`` the message. Limits honoured: 3,000 characters a section, 50 blocks a message
(100 in App Home), 10 fields a section and 2,000 characters each, 10 elements a context, 25
buttons a row, 2,000 characters a button value, 75 a button label, 150 a header. Each
button is named as Slack's older messages named it (``case_claim``, ``escalate_hr``,
``feedback_up``...), so that the buttons on messages already sent keep working.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from adapters.slack.mrkdwn import (
    ELLIPSIS,
    SECTION_LIMIT,
    escape,
    mentions,
    quote,
    split,
    to_mrkdwn,
    truncate,
)
from adapters.slack.refs import who
from bot import messages
from bot.messages import Button, Buttons, Facts, Heading, Message, Part, Quote, Run, Text

Block = dict[str, Any]
Rendered = tuple[str, list[Block]]

MAX_BLOCKS = 50
MAX_BUTTONS = 25
"""Block Kit's most elements in one actions block."""
VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000
FIELD_LIMIT = 2000
"""Block Kit's limit on a section field's text."""

MARKS = {
    "done": ":white_check_mark:",
    "refused": ":no_entry:",
    "reload": ":arrows_counterclockwise:",
    "alarm": ":alarm_clock:",
    "suggested": ":speech_balloon:",
    "celebrate": ":tada:",
}
STATUS_MARKS = {
    "open": ":large_yellow_circle:",
    "reopened": ":large_yellow_circle:",
    "claimed": ":large_blue_circle:",
    "answered": ":speech_balloon:",
    "resolved": ":white_check_mark:",
}
FEEDBACK_MARKS = {True: ":thumbsup:", False: ":thumbsdown:"}
ACTION_IDS = {"add_to_case": "case_amend", "share": "share_answer"}
"""Buttons whose Slack name is not ``case_<step>``, ``escalate_<team>``, ``feedback_...``."""
CASE_STEPS = ("claim", "reply", "resolve", "reopen", "approve")


def render(message: Message) -> Rendered:
    """``message`` as Slack's fallback text and blocks, within Block Kit's limits."""
    text = truncate(mentions(to_mrkdwn(message.summary)), FALLBACK_LIMIT)
    return text, blocks(message.parts)


def blocks(parts: Iterable[Part], limit: int = MAX_BLOCKS) -> list[Block]:
    """The parts as blocks; when there are more than ``limit``, the longest text is cut
    (its last block kept ends with "…")."""
    drawn: list[list[Block]] = []
    for part in parts:
        if isinstance(part, Buttons) and all(b.url for b in part.buttons) and drawn:
            _link_after(drawn[-1], part.buttons)
        else:
            drawn.append(_part(part))
    while sum(map(len, drawn)) > limit:
        longest = max(drawn, key=len)
        if len(longest) < 2:
            break
        longest.pop()
        last = longest[-1].get("text", {})
        if last.get("type") == "mrkdwn":
            last["text"] = last["text"][: SECTION_LIMIT - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return [block for group in drawn for block in group]


def _part(part: Part) -> list[Block]:
    if isinstance(part, Heading):
        return [{"type": "header", "text": plain(part.text, 150)}]
    if isinstance(part, Text):
        return _text(part)
    if isinstance(part, Quote):
        return [section(_quote(part))]
    if isinstance(part, Facts):
        fields = [_fact(f.label, f.runs, f.status) for f in part.facts[:10]]
        return [{"type": "section", "fields": fields}]
    if isinstance(part, Buttons) and all(b.ask for b in part.buttons):
        # Slack cannot send words as if typed: the questions to try are shown to copy
        return [context(*(f"“{escape(b.label)}”" for b in part.buttons))]
    if isinstance(part, Buttons):
        shown = [_button(button) for button in part.buttons[:MAX_BUTTONS]]
        block: Block = {"type": "actions", "elements": shown}
        if part.group:
            block["block_id"] = part.group
        return [block]
    return [{"type": "divider"}]


def _text(part: Text) -> list[Block]:
    shown = f"*{runs(part.runs)}*" if part.style == "strong" else runs(part.runs)
    if part.mark:
        shown = f"{MARKS[part.mark]} {shown}"
    if part.style != "body":  # strong, muted, notice: a context line
        return [context(shown)]
    return [section(piece) for piece in split(shown)] or [section(" ")]


def _quote(part: Quote) -> str:
    over = runs(part.over) if part.over else f"*{escape(part.label)}*" if part.label else ""
    said = (
        to_mrkdwn(truncate(part.text, 2900)) if part.markdown else quote(truncate(part.text, 2900))
    )
    return f"{over}\n{said}" if over else said


def runs(pieces: Iterable[Run]) -> str:
    """Runs as mrkdwn: the core's markdown converted, people as mentions, the rest escaped."""
    return "".join(_run(piece) for piece in pieces)


def _run(piece: Run) -> str:
    if isinstance(piece, str):
        return to_mrkdwn(piece)
    if isinstance(piece, messages.Plain):
        if piece.code:
            return f"```{escape(piece.text)}```"
        return f"_{escape(piece.text)}_" if piece.em else escape(piece.text)
    if isinstance(piece, messages.Moment):
        return _when(piece.at)
    return who(piece.id, piece.words or None) if piece.id else f"_{escape(piece.words)}_"


def _fact(label: str, value: Iterable[Run], status: str | None) -> Block:
    shown = runs(value)
    if status:
        shown = f"{STATUS_MARKS[status]} {shown}"
    return {"type": "mrkdwn", "text": truncate(f"*{label}*\n{shown}", FIELD_LIMIT)}


def _button(button: Button) -> Block:
    label, action_id = button.label, ACTION_IDS.get(button.action, button.action)
    if button.action == "feedback":
        helpful = bool(button.data.get("helpful"))
        label = f"{FEEDBACK_MARKS[helpful]} {label}"
        action_id = "feedback_up" if helpful else "feedback_down"
    elif button.action == "escalate":
        action_id = f"escalate_{button.data['team']}"
    elif button.action in CASE_STEPS:
        action_id = f"case_{button.action}"
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": truncate(label, 75), "emoji": True},
        "value": button.value[:VALUE_LIMIT],
    }
    if button.style:
        element["style"] = button.style
    return element


def _link_after(drawn: list[Block], links: Iterable[Button]) -> None:
    """A link is drawn in the text above it: a Block Kit link button would still send Slack
    an action to acknowledge."""
    shown = " ".join(f"<{b.url}|{escape(b.label)}>" for b in links)
    last = drawn[-1]
    if last.get("type") == "section" and "text" in last:
        last["text"]["text"] = truncate(f"{last['text']['text']} {shown}", SECTION_LIMIT)
    else:
        drawn.append(section(shown))


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(t, SECTION_LIMIT)} for t in texts[:10]],
    }


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": truncate(text, limit)}


def _when(at: datetime) -> str:
    stamp = int(at.timestamp())
    fallback = at.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"
