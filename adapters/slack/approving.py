"""Reviewers save a reply as an approved answer: the case card's "Save as approved answer"
button (drawn in ``case_blocks``) opens a modal with the question, the text and the clauses
to edit, and its submission saves it through the core (:meth:`bot.assistant.Assistant.approve`).

Whether a card offers the button, who may press it and what is refused are the core's
(:func:`bot.approved.clauses.offers_approval`, its refusals); this module only draws and translates.
The modal keeps the case id in ``private_metadata``.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.case_blocks import APPROVE as ACTION
from adapters.slack.context import SlackBot
from adapters.slack.errors import after_ack
from adapters.slack.forms import done_view, metadata, modal, submitted
from adapters.slack.mrkdwn import mentions
from adapters.slack.refs import person
from bot import phrases
from bot.approved.clauses import draft_of
from bot.approved.views import ClauseError, approved_receipt, parse_clause_list
from bot.errors import PolicyBotError
from bot.forms import approve_form

Body = dict[str, Any]


def register(app: App, bot: SlackBot) -> None:
    """Add the button's and the modal's listeners to ``app``."""

    def on_approve(ack: Ack, body: Body, action: Body, client: WebClient, respond: Respond) -> None:
        ack()
        case = bot.assistant.may_approve(action["value"], by=person(body["user"]["id"]))
        form = modal(approve_form(case, draft_of(case)), ACTION, {"case": case.id})
        client.views_open(trigger_id=body["trigger_id"], view=form)

    def on_submit(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        typed = {key: str(value) for key, value in submitted(view).items()}
        try:
            saved = bot.assistant.approve(
                metadata(view)["case"],
                by=person(body["user"]["id"]),
                text=typed.get("text", ""),
                question=typed.get("question") or None,
                clauses=parse_clause_list(typed.get("clauses", "")),
            )
        except PolicyBotError as exc:  # shown on the form, which keeps what was typed
            where = "clauses" if isinstance(exc, ClauseError) else "text"
            ack(response_action="errors", errors={where: mentions(str(exc))})
            return
        done = done_view(phrases.APPROVED_SAVED, approved_receipt(saved))
        ack(response_action="update", view=done)

    app.action(ACTION)(after_ack(on_approve))
    app.view(ACTION)(after_ack(on_submit))
