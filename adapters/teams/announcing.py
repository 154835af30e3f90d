"""Policy-change announcements in Teams: ``announce [VERSION]`` with a preview card (whose
Confirm and Cancel buttons go through :mod:`adapters.teams.actions`), and ``mute`` /
``unmute``; and the plain messages the notifier posts for them.

The core decides who may announce and words every reply (:mod:`bot.cases.announcements`); a refusal
it raises reaches the person through :func:`adapters.teams.app.on_turn_error`.
"""

from __future__ import annotations

import asyncio

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.teams.cards import render, text_message
from adapters.teams.identity import PLATFORM, person_id
from adapters.teams.sending import send
from bot import messages
from bot.assistant import Assistant
from bot.cases.announcements import Preview
from bot.commands import Command

CONFIRM, CANCEL = "announce_confirm", "announce_cancel"
__all__ = ["Announcing", "preview_message", "text_message"]


def preview_message(preview: Preview) -> Activity:
    """The admin's preview card (:func:`bot.messages.preview`)."""
    return render(messages.preview(preview))


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
