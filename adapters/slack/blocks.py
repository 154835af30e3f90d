"""Block Kit for staff: answers, help, confirmations and the apology.

Every builder returns ``(text, blocks)``: ``text`` is the notification fallback that Slack shows
in alerts and to screen readers, ``blocks`` the message. Limits honoured: 3,000 characters a
section, 50 blocks a message, 2,000 characters a button value, 75 a button label.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.mrkdwn import ELLIPSIS, SECTION_LIMIT, escape, quote, split, to_mrkdwn, truncate
from bot import cards, phrases
from bot.answers.offers import Offer
from bot.case_views import CaseView
from bot.models import TEAMS, Answer, Team

Block = dict[str, Any]
Message = tuple[str, list[Block]]

MAX_BLOCKS = 50
VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000
#: The prefix of an escalate button's value that carries a question instead of an answer id.
QUESTION_VALUE = "ask:"

FEEDBACK = {
    True: ("feedback_up", f":thumbsup: {phrases.FEEDBACK[True]}"),
    False: ("feedback_down", f":thumbsdown: {phrases.FEEDBACK[False]}"),
}

WELCOME = phrases.welcome("slack")
HELP = "\n".join(
    [to_mrkdwn(WELCOME.intro), *(f"• {to_mrkdwn(way)}" for way in WELCOME.ways), WELCOME.for_admins]
)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(t, SECTION_LIMIT)} for t in texts[:10]],
    }


def button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": truncate(label, 75), "emoji": True},
        "value": value[:VALUE_LIMIT],
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def escalate_button(team: Team, value: str, *, primary: bool = False) -> Block:
    """``escalate_hr`` or ``escalate_communications``, carrying an answer id (or a question)."""
    label = phrases.ask_team(team, short=True)
    return button(f"escalate_{team}", label, value, "primary" if primary else None)


def answer_message(answer: Answer, *, share: bool = False, shared_by: str = "") -> Message:
    """An answer: its text, the clauses it rests on, feedback and escalation buttons.

    Args:
        answer: the core's answer.
        share: add a "Share in channel" button (for the private ``/policy`` answer).
        shared_by: the user id of whoever shared it in the channel.
    """
    head: list[Block] = []
    if shared_by:
        said = phrases.shared_by(f"<@{shared_by}>")
        head.append(context(f"{said} _{escape(answer.question)}_"))
    view = cards.answer_card(answer)
    if view.notices:
        head.append(context(*(escape(notice) for notice in view.notices)))
    citations = [_citation(clause) for clause in view.clauses]
    if citations:
        citations.insert(0, context(f"*{view.clauses_heading}*"))
    mark = ":speech_balloon: " if view.suggested else ""
    tail = [context(f"{mark}{escape(view.under)}")] if view.under else []
    buttons = [_offer_button(offer, answer.id) for offer in view.offers]
    if buttons:
        tail.append(actions(*buttons, block_id="answer_actions"))
    if share:
        tail.append(actions(button("share_answer", phrases.SHARE, answer.id)))
    room = MAX_BLOCKS - len(head) - len(citations) - len(tail)
    body = [section(piece) for piece in _fit(split(to_mrkdwn(answer.text)), room)]
    return truncate(to_mrkdwn(answer.text), FALLBACK_LIMIT), head + body + citations + tail


def _offer_button(offer: Offer, answer_id: str) -> Block:
    if offer.team is None:
        return button(*FEEDBACK[offer.helpful], answer_id)
    return escalate_button(offer.team, answer_id, primary=offer.suggested)


def _fit(pieces: list[str], room: int) -> list[str]:
    """At most ``room`` pieces; the last one kept ends with "…" when some were dropped."""
    if len(pieces) <= room:
        return pieces
    kept = pieces[: max(room, 1)]
    kept[-1] = kept[-1][: SECTION_LIMIT - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return kept


def _citation(clause: cards.QuotedClause) -> Block:
    return section(f"*{escape(clause.heading)}*\n{quote(clause.quote)}")


def help_message() -> Message:
    return phrases.HOW_TO_ASK, [section(HELP)]


def apology(question: str = "") -> Message:
    """The one reply to an unexpected failure: no details, and a way to reach a person."""
    text = phrases.APOLOGY
    if not question:
        return text, [section(f"{text} {phrases.REACH_A_PERSON}")]
    value = QUESTION_VALUE + question[: VALUE_LIMIT - len(QUESTION_VALUE)]
    blocks = [
        section(f"{text} {phrases.IF_IT_CANT_WAIT}"),
        actions(*(escalate_button(team, value) for team in TEAMS)),
    ]
    return text, blocks


def refusal(message: str) -> Message:
    """A core refusal or impossible step, whose message is safe to show as it is."""
    return message, [section(f":no_entry: {escape(message)}")]


def escalated(case: CaseView, *, again: bool = False) -> Message:
    """The asker's confirmation, with the offer to add a note or stay anonymous (the team's
    card waits for that choice: :func:`bot.forms.amend_form`)."""
    text = phrases.passed_on(case.id, case.team, again=again)
    detail = phrases.passed_on_detail(case, again=again, await_choice=True)
    return text, [
        section(f":white_check_mark: {escape(detail)}"),
        actions(button("case_amend", phrases.ADD_TO_CASE, case.id)),
    ]


def reloaded(user: str, summary: str) -> Message:
    text = phrases.reloaded(f"<@{user}>")
    return text, [section(f":arrows_counterclockwise: {text}\n```{escape(summary)}```")]
