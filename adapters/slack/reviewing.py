"""App Home: a person's own cases, and their teams' live cases if they review.

The case cards' buttons (Claim, Reply in a modal, Resolve, Reopen) go through the one button
listener (:mod:`adapters.slack.pressing`), which publishes App Home again after a button
pressed there.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters.slack.case_blocks import home_view
from adapters.slack.context import SlackBot
from adapters.slack.digest import home_digest
from adapters.slack.refs import person
from bot.errors import PolicyBotError

Body = dict[str, Any]


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
    view["blocks"] += home_digest(bot, who)  # admins only (adapters.slack.digest)
    client.views_publish(user_id=user, view=view)
