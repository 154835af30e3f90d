"""Reviewers save a reply as an approved answer: the case card's "Save as approved answer"
button (drawn in ``case_blocks``) opens a modal with the question, the text and the clauses
to edit, and its submission saves it through the core (:meth:`bot.assistant.Assistant.approve`).

Whether a card offers the button, who may press it and what is refused are the core's
(:func:`bot.approved.clauses.offers_approval`, its refusals); this module only draws and translates.
The modal keeps the case id in ``private_metadata``.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.blocks import Block, section
from adapters.slack.case_blocks import APPROVE as ACTION
from adapters.slack.context import SlackBot
from adapters.slack.errors import after_ack
from adapters.slack.mrkdwn import escape, mentions, truncate
from adapters.slack.refs import person
from bot.approved.clauses import draft_of
from bot.approved.views import (
    CLAUSES_HINT,
    QUESTION_HINT,
    ApprovalDraft,
    ClauseError,
    approved_receipt,
    form_intro,
    parse_clause_list,
)
from bot.case_views import CaseView
from bot.errors import PolicyBotError

Body = dict[str, Any]
View = dict[str, Any]


def approve_modal(case: CaseView, draft: ApprovalDraft) -> View:
    """The form: the question, the text to approve, the clauses it rests on."""

    def field(block: str, label: str, value: str, hint: str, limit: int) -> Block:
        element: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": block != "clauses",
            "max_length": limit,
        }
        if value:
            element["initial_value"] = truncate(value, limit)
        return {
            "type": "input",
            "block_id": block,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": hint},
            "element": element,
        }

    return {
        "type": "modal",
        "callback_id": ACTION,
        "private_metadata": json.dumps({"case": case.id}),
        "title": {"type": "plain_text", "text": "Save approved answer"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(escape(form_intro(case.id))),
            field(
                "question",
                "The question it answers",
                draft.question,
                QUESTION_HINT,
                1000,
            ),
            field("text", "The approved answer", draft.text, "Shown to staff as it is.", 3000),
            field(
                "clauses",
                "The clauses it rests on",
                draft.clause_list,
                CLAUSES_HINT,
                500,
            ),
        ],
    }


def saved_view(text: str) -> View:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Approved answer saved"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [section(escape(text))],
    }


def register(app: App, bot: SlackBot) -> None:
    """Add the button's and the modal's listeners to ``app``."""

    def on_approve(ack: Ack, body: Body, action: Body, client: WebClient, respond: Respond) -> None:
        ack()
        case = bot.assistant.may_approve(action["value"], by=person(body["user"]["id"]))
        client.views_open(trigger_id=body["trigger_id"], view=approve_modal(case, draft_of(case)))

    def on_submit(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        values = view["state"]["values"]

        def typed(block: str) -> str:
            return str(values.get(block, {}).get("value", {}).get("value") or "")

        try:
            saved = bot.assistant.approve(
                json.loads(view["private_metadata"])["case"],
                by=person(body["user"]["id"]),
                text=typed("text"),
                question=typed("question") or None,
                clauses=parse_clause_list(typed("clauses")),
            )
        except PolicyBotError as exc:  # shown on the form, which keeps what was typed
            where = "clauses" if isinstance(exc, ClauseError) else "text"
            ack(response_action="errors", errors={where: mentions(str(exc))})
            return
        ack(response_action="update", view=saved_view(approved_receipt(saved)))

    app.action(ACTION)(after_ack(on_approve))
    app.view(ACTION)(after_ack(on_submit))
