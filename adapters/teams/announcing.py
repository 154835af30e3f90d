"""Policy-change announcements in Teams: ``announce [VERSION]`` with a preview card (whose
Confirm and Cancel buttons go through :mod:`adapters.teams.actions`), and ``mute`` /
``unmute``; and the plain messages the notifier posts for them.

The core decides who may announce and words every reply (:mod:`bot.cases.announcements`); a refusal
it raises reaches the person through :func:`adapters.teams.app.on_turn_error`.
"""

from __future__ import annotations

import asyncio

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity

from adapters.teams.cards import card, message, plain, text
from adapters.teams.identity import PLATFORM, person_id
from adapters.teams.sending import send
from bot import phrases
from bot.assistant import Assistant
from bot.cases.announcements import Preview
from bot.commands import Command

CONFIRM, CANCEL = "announce_confirm", "announce_cancel"


def text_message(markdown: str) -> Activity:
    """The core's neutral markdown as a message (an announcement, a direct message)."""
    activity = MessageFactory.text(markdown)
    activity.summary = plain(markdown)[:300]
    return activity


def preview_message(preview: Preview) -> Activity:
    """The admin's preview card, with Confirm and Cancel when there is news."""
    actions = []
    if preview.confirmable:
        shown = {"since": preview.since, "version": preview.version}
        actions = [
            {
                "type": "Action.Submit",
                "title": phrases.CONFIRM_ANNOUNCE,
                "data": {"action": CONFIRM, **shown},
                "style": "positive",
            },
            {"type": "Action.Submit", "title": phrases.CANCEL, "data": {"action": CANCEL}},
        ]
    body = [text(part) for part in preview.summary().split("\n\n") if part.strip()]
    return message(card(body, actions), preview.text)


class Announcing:
    """The announcement commands of the Teams bot.

    Args:
        assistant: the core.
    """

    def __init__(self, assistant: Assistant) -> None:
        self._assistant = assistant

    async def on_command(self, context: TurnContext, command: Command) -> None:
        """Handle ``announce [VERSION]``, ``mute`` or ``unmute``."""
        by = self._person(context)
        if command.kind in ("mute", "unmute"):
            muted = command.kind == "mute"
            reply = await asyncio.to_thread(self._assistant.mute, by, PLATFORM, muted=muted)
            await send(context, reply)
            return
        since = command.argument or None
        preview = await asyncio.to_thread(self._assistant.preview_announcement, by, since=since)
        await send(context, preview_message(preview))

    def _person(self, context: TurnContext) -> str:
        return person_id(context.activity.from_property, self._assistant.settings)
