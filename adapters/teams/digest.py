"""``insights`` in Teams: the admins' weekly digest, on request (:mod:`bot.ops.digest`).

The core decides who is an admin; its refusal reaches the one turn-error handler, which shows
it. The digest is a card with the full report linked (an *Open the full report* button,
with ``POLICYBOT_PUBLIC_URL`` set), or with the command that writes it. The link opens the
report, so the card goes to the admin's personal chat: typed in a channel or group chat,
``insights`` gets only the neutral note there.
"""

from __future__ import annotations

import asyncio

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.teams.cards import render
from adapters.teams.identity import is_personal, person_id, reference_json
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.sending import send
from bot import messages, phrases
from bot.assistant import Assistant
from bot.ops.digest import Digest


def digest_message(digest: Digest) -> Activity:
    """The digest as a card (:func:`bot.messages.insights`)."""
    return render(messages.insights(digest))


async def send_digest(context: TurnContext, assistant: Assistant, notifier: TeamsNotifier) -> None:
    """Answer ``insights``: the digest for an admin, in their personal chat.

    Raises:
        NotAuthorizedError: the sender is not an admin (shown by the turn-error handler).
    """
    activity = context.activity
    by = person_id(activity.from_property, assistant.settings)
    digest = await asyncio.to_thread(lambda: assistant.reports.digest(by))
    if is_personal(activity):
        await send(context, digest_message(digest))
        return
    await notifier.send_privately(reference_json(activity), digest_message(digest))
    await send(context, phrases.REPLIED_PRIVATELY)
