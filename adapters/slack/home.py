"""App Home: a person's own cases, their teams' live cases if they review, and the insights
digest if they are an admin: what the core lists (:meth:`bot.assistant.Assistant.home`), drawn
by :func:`bot.messages.home`.

The case cards' buttons (Claim, Reply in a modal, Resolve, Reopen) go through the one button
listener (:mod:`adapters.slack.pressing`), which publishes App Home again after a button
pressed there.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters.slack.blocks import blocks
from adapters.slack.context import SlackBot
from adapters.slack.refs import PLATFORM, person
from bot import messages

HOME_BLOCKS = 100
"""Block Kit's most blocks in App Home."""


def register(app: App, bot: SlackBot) -> None:
    """Add App Home to ``app``."""

    def on_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(bot, client, event["user"])

    app.event("app_home_opened")(on_home)


def publish_home(bot: SlackBot, client: WebClient, user: str) -> None:
    """Publish App Home for ``user`` as the core lists it now."""
    home = bot.assistant.home(person(user))
    shown = messages.home(home.own, home.teams, platform=PLATFORM, digest=home.digest)
    view = {"type": "home", "blocks": blocks(shown.parts, limit=HOME_BLOCKS)}
    client.views_publish(user_id=user, view=view)
