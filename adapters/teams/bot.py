"""The Teams activity handler: translates activities into calls on the core.

It holds the :class:`~bot.assistant.Assistant` and decides nothing itself. Surfaces: the
personal chat; channels and group chats when the bot is @-mentioned (the mention is cut from
the question); card buttons, all through one path (:mod:`adapters.teams.actions`); a welcome
card when the bot is installed. ``help`` shows the welcome again; ``reload``, ``insights``
(the admins' digest), ``announce [VERSION]``, ``mute`` and ``unmute`` each call the core, which
checks who may and words the replies. What names the person alone (an answer about their own
situation, the digest with its report link) asked where others read goes to their personal
chat, and only a neutral line where they asked.

A message activity delivered again (the Bot Framework resends one it thinks was lost, maybe
to another instance) is handled once, as the core decides
(:meth:`bot.assistant.Assistant.first_delivery`), and forgotten again when its turn fails
(:meth:`~bot.assistant.Assistant.delivery_failed`), so that a resend gets the answer the
first delivery could not.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.actions import CardActions
from adapters.teams.cards import render
from adapters.teams.identity import (
    PLATFORM,
    is_personal,
    mentions_bot,
    person_id,
    question_from,
    reference_json,
)
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.sending import send, while_typing
from bot import messages, phrases
from bot.assistant import Assistant
from bot.commands import Command, parse

log = logging.getLogger(__name__)


def question_text(context: TurnContext) -> str:
    """What the person typed, without the bot's @-mention and Teams' HTML leftovers."""
    activity = context.activity
    raw = TurnContext.remove_recipient_mention(activity) if mentions_bot(activity) else None
    return html.unescape(raw if raw is not None else activity.text or "").strip()


def delivery_key(activity: Activity) -> str:
    """What identifies one message activity however often it is delivered ("" for others):
    its id, which is unique within its conversation."""
    if activity.type != ActivityTypes.message or not activity.id or not activity.conversation:
        return ""
    return f"{activity.conversation.id}/{activity.id}"


class TeamsBot(TeamsActivityHandler):  # type: ignore[misc]  # botbuilder is untyped
    """PolicyBot in Teams.

    Args:
        assistant: answers, escalations, feedback, reloads.
        notifier: learns service URLs and names from each activity; case cards.
        deliver_soon: delivers what a button queued, at once.
    """

    def __init__(
        self, assistant: Assistant, notifier: TeamsNotifier, deliver_soon: Callable[[], None]
    ) -> None:
        super().__init__()
        self._assistant = assistant
        self._notifier = notifier
        self._actions = CardActions(assistant, notifier, deliver_soon)

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        key = delivery_key(activity)
        assistant = self._assistant
        if key and not await asyncio.to_thread(assistant.first_delivery, PLATFORM, key):
            log.info("teams: acknowledged a repeated activity %s", activity.id)
            return
        await asyncio.to_thread(self._notifier.learn_from, activity)
        try:
            await super().on_turn(turn_context)
        except BaseException:
            await asyncio.to_thread(assistant.delivery_failed, PLATFORM, key)
            raise

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("action"):
            await self._actions.handle(turn_context, activity.value)
            return
        if not is_personal(activity) and not mentions_bot(activity):
            return  # channel talk that is not addressed to the bot
        text = question_text(turn_context)
        command = parse(text)
        if command is None:
            await self._ask(turn_context, text)
        elif command.kind == "help":
            await send(turn_context, render(messages.welcome(PLATFORM)))
        elif command.kind == "reload":
            await self._reload(turn_context)
        elif command.kind == "insights":  # admins only, checked in the core
            await self._insights(turn_context)
        else:
            await self._announcing(turn_context, command)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # Only the bot's own arrival matters; TeamsActivityHandler would also look up every
        # other new member with a call to Teams, for nothing.
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(member.id == bot_id for member in activity.members_added or []):
            await send(turn_context, render(messages.welcome(PLATFORM)))

    async def _ask(self, context: TurnContext, text: str) -> None:
        question = question_from(context.activity, text, self._assistant.settings)
        answer = await while_typing(context, lambda: self._assistant.ask(question))
        shown = render(messages.answer(answer))
        if not answer.private:
            await send(context, shown)
            return
        # The asker's own situation, told where others read (bot.answers.privacy): Teams has
        # no message only one member of a conversation sees, so the answer goes to their
        # personal chat, and here only a neutral line.
        await self._notifier.tell_privately(
            context,
            question.conversation,
            shown,
            said=phrases.REPLIED_PRIVATELY,
            failed=phrases.PRIVATE_UNREACHABLE,
        )

    async def _insights(self, context: TurnContext) -> None:
        """The admins' digest (the core refuses anyone else), in the admin's personal chat:
        its link opens the full report."""
        activity = context.activity
        by = person_id(activity.from_property, self._assistant.settings)
        digest = await asyncio.to_thread(lambda: self._assistant.reports.digest(by))
        shown = render(messages.insights(digest))
        if is_personal(activity):
            await send(context, shown)
            return
        await asyncio.to_thread(self._notifier.send_privately, reference_json(activity), shown)
        await send(context, phrases.REPLIED_PRIVATELY)

    async def _announcing(self, context: TurnContext, command: Command) -> None:
        """``announce [VERSION]`` (a preview, whose Confirm and Cancel go through the card
        buttons' path), ``mute`` or ``unmute``; who may, and every reply, are the core's."""
        by = person_id(context.activity.from_property, self._assistant.settings)
        if command.kind in ("mute", "unmute"):
            muted = command.kind == "mute"
            reply = await asyncio.to_thread(self._assistant.mute, by, PLATFORM, muted=muted)
            await send(context, reply)
            return
        since = command.argument or None
        preview = await asyncio.to_thread(self._assistant.preview_announcement, by, since=since)
        await send(context, render(messages.preview(preview)))

    async def _reload(self, context: TurnContext) -> None:
        account = context.activity.from_property
        by = person_id(account, self._assistant.settings)
        report = await while_typing(context, lambda: self._assistant.reload(requested_by=by))
        who = messages.Person(by, (account.name if account else "") or "")
        await send(context, render(messages.reloaded(who, report.summary()), text=True))
