"""App Home: a person's own cases, and their teams' live cases if they review.

The case cards' buttons (Claim, Reply in a modal, Resolve, Reopen) go through the one button
listener (:mod:`adapters.slack.pressing`), which publishes App Home again after a button
pressed there.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters.slack.blocks import Block, blocks
from adapters.slack.case_blocks import home_view
from adapters.slack.context import SlackBot
from adapters.slack.refs import person
from bot import messages
from bot.errors import NotAuthorizedError, PolicyBotError

Body = dict[str, Any]

log = logging.getLogger(__name__)


def register(app: App, bot: SlackBot) -> None:
    """Add App Home to ``app``."""

    def on_home(event: Body, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(bot, client, event["user"])

    app.event("app_home_opened")(on_home)


def publish_home(bot: SlackBot, client: WebClient, user: str) -> None:
    """App Home for ``user``: their own cases, and their teams' live cases if they review."""
    who = person(user)
    try:
        own, teams = bot.assistant.my_cases(who), bot.assistant.team_cases(who)
    except PolicyBotError:  # no case database: the home tab still explains how to ask
        own, teams = [], {}
    view = home_view(own, teams)
    view["blocks"] += home_digest(bot, who)  # admins only
    client.views_publish(user_id=user, view=view)


def home_digest(bot: SlackBot, who: str) -> list[Block]:
    """The admins' weekly insights digest for App Home (:func:`bot.messages.insights`): none for
    someone who is not an admin (the core refuses), or when the report cannot be drawn now (App
    Home still shows everything else)."""
    try:
        return blocks(messages.insights(bot.assistant.reports.digest(who)).parts)
    except NotAuthorizedError:
        return []
    except PolicyBotError as exc:
        log.info("no insights digest in App Home: %s", exc)
        return []
