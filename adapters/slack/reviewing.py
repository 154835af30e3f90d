"""Reviewers' side: a case's buttons (Claim, Reply in a modal, Resolve, Reopen) on case cards
and in App Home.

Each button is one call on the core: it decides who may act and what each status allows,
and its refusals reach the one error handler, which shows them to the presser alone.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.case_blocks import CARD, home_view
from adapters.slack.context import SlackBot
from adapters.slack.digest import home_digest
from adapters.slack.errors import after_ack
from adapters.slack.forms import metadata, modal, submitted
from adapters.slack.mrkdwn import mentions
from adapters.slack.notifier import CardLocation
from adapters.slack.refs import person
from bot.case_views import CaseView
from bot.errors import PolicyBotError
from bot.forms import reply_form

Body = dict[str, Any]


def card_location(body: Body) -> CardLocation | None:
    """The channel and ts of the case card a button was pressed on; None when it was pressed
    elsewhere (App Home, a reminder listing several cases)."""
    container = body.get("container", {})
    block_id = str(body.get("actions", [{}])[0].get("block_id", ""))
    if container.get("type") == "message" and block_id.startswith(f"{CARD}:"):
        return CardLocation(container["channel_id"], container["message_ts"])
    return None


def register(app: App, bot: SlackBot) -> None:
    """Add the reviewer listeners and App Home to ``app``."""

    def on_step(ack: Ack, body: Body, action: Body, client: WebClient, respond: Respond) -> None:
        ack()
        user, step = body["user"]["id"], action["action_id"].removeprefix("case_")
        case = bot.assistant.act(action["value"], step, by=person(user))
        after(client, user, case, card_location(body))

    def on_reply(ack: Ack, body: Body, action: Body, client: WebClient, respond: Respond) -> None:
        ack()
        case = bot.assistant.may(action["value"], "reply", by=person(body["user"]["id"]))
        where = card_location(body)
        kept = {"case": case.id, **({"channel": where[0], "ts": where[1]} if where else {})}
        form = modal(reply_form(case), "case_reply", kept, quoted=case.question)
        client.views_open(trigger_id=body["trigger_id"], view=form)

    def on_reply_submit(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        kept, text = metadata(view), str(submitted(view).get("reply", ""))
        user = body["user"]["id"]
        try:
            case = bot.assistant.act(kept["case"], "reply", by=person(user), text=text)
        except PolicyBotError as exc:  # shown on the form, which keeps the reviewer's text
            ack(response_action="errors", errors={"reply": mentions(str(exc))})
            return
        ack()
        bot.deliver_soon()
        where = CardLocation(kept["channel"], kept["ts"]) if "channel" in kept else None
        after(client, user, case, where)

    def on_home(event: Body, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(bot, client, event["user"])

    def after(client: WebClient, user: str, case: CaseView, where: CardLocation | None) -> None:
        bot.notifier.refresh_card(case, where)
        if where is None:  # pressed in App Home (or a reminder): show the new state there
            publish_home(bot, client, user)

    app.action(re.compile(r"^case_(claim|resolve|reopen)$"))(after_ack(on_step))
    app.action("case_reply")(after_ack(on_reply))
    app.view("case_reply")(after_ack(on_reply_submit))
    app.event("app_home_opened")(on_home)


def publish_home(bot: SlackBot, client: WebClient, user: str) -> None:
    """App Home for ``user``: their own cases, and their teams' live cases if they review."""
    who = person(user)
    try:
        own, teams = bot.assistant.my_cases(who), bot.assistant.team_cases(who)
    except PolicyBotError:  # no case database: the home tab still explains how to ask
        own, teams = [], {}
    view = home_view(own, teams)
    view["blocks"] += home_digest(bot, who)  # admins only (adapters.slack.digest)
    client.views_publish(user_id=user, view=view)
