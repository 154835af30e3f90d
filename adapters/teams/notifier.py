"""Case notifications to Teams: case cards in the team channels, replies to askers.

What is done when (post or redraw a card, reply, remind, announce) is
:class:`adapters.notifying.ChannelNotifier`'s, the same on every platform; this module makes
its Teams calls.

The outbox calls :class:`TeamsNotifier` from a worker thread; each call runs its coroutine on
the server's event loop and waits. A failure raises, so the outbox tries again later.

- A case card goes to ``TEAMS_HR_CHANNEL`` / ``TEAMS_COMMS_CHANNEL`` (channel conversation
  ids), at ``TEAMS_SERVICE_URL`` or else the service URL of the latest incoming activity. The id
  Teams gives the posted card is remembered, so the card can be updated in place.
- A reply goes to the asker's personal chat: the stored reference when they asked there; else
  a one-to-one chat the bot opens with them, never the channel they asked in, where others
  would read it.

What is learned (the service URL and the bot's id from incoming activities, people's display
names, the chats opened, where each card is) is kept in the platform state every instance on
the database shares (:class:`bot.platform_state.PlatformState`), so that a card posted by one
instance is updated by another, and a name seen by one is shown by all. It is read and
written on worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.notifying import ChannelNotifier
from adapters.teams.cards import render, render_case
from adapters.teams.identity import (
    CHANNEL_ID,
    PLATFORM,
    channel_reference,
    person_id,
    reference_from,
)
from adapters.teams.sending import proactive, send, update
from bot import messages
from bot.case_views import CaseView
from bot.config import Settings
from bot.models import Team
from bot.platform_state import CardPlace

if TYPE_CHECKING:
    from bot.platform_state import PlatformState

log = logging.getLogger(__name__)

T = TypeVar("T")
TIMEOUT = 60.0
"""Seconds a delivery may take, retries included; well inside the outbox's 5-minute lease."""


class TeamsNotifier(ChannelNotifier):
    """The Teams side of :class:`bot.ports.Notifier` (see the module docstring; the behaviour
    is :class:`adapters.notifying.ChannelNotifier`'s, this class makes its Teams calls).

    Args:
        adapter: the botbuilder adapter that sends.
        settings: app id, team channels, service URL, tenant.
        state: the platform state (``Assistant.state``).
    """

    platform = PLATFORM
    settings_prefix = "TEAMS"

    def __init__(
        self, adapter: CloudAdapter, settings: Settings, *, state: Callable[[], PlatformState]
    ) -> None:
        teams = settings.teams
        super().__init__(
            {"hr": teams.hr_channel, "communications": teams.comms_channel},
            sla_hours=settings.sla_hours,
            state=state,
            announce_channel=teams.announce_channel,
        )
        self._adapter = adapter
        self._app_id = teams.app_id
        self._tenant = teams.tenant_id
        self._service_url = teams.service_url
        self._configured_bot_id = f"28:{self._app_id}" if self._app_id else ""
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, _app: web.Application) -> None:
        """Remember the server's event loop (an aiohttp on_startup hook)."""
        self._loop = asyncio.get_running_loop()

    def learn(self, activity: Activity) -> None:
        """Note the service URL, the bot's id and the sender's name from an incoming activity
        (blocking: call it on a worker thread). Only what changed is written."""
        state = self._state()
        bot_id = activity.recipient.id if activity.recipient else ""
        state.learn_endpoint(PLATFORM, service_url=activity.service_url or "", bot_id=bot_id or "")
        sender = activity.from_property
        if sender and sender.name:
            state.learn_name(PLATFORM, person_id(sender, self._settings), sender.name)

    def names_in(self, case: CaseView) -> dict[str, str]:
        """The display names of the people a case's card shows (blocking)."""
        people = (case.asker, case.claimed_by, *(event.by for event in case.events))
        return self._state().names_of(PLATFORM, people)

    def service_url(self) -> str:
        """``TEAMS_SERVICE_URL``, or the latest incoming activity's (blocking)."""
        url = self._service_url or self._state().service_url(PLATFORM)
        if not url:
            raise LookupError("no Teams service URL yet: set TEAMS_SERVICE_URL")
        return url

    def bot_id(self) -> str:
        """The bot's id in conversations, as last seen (blocking)."""
        return self._state().bot_id(PLATFORM) or self._configured_bot_id

    # The SDK calls (ChannelNotifier's), synchronous: from the outbox's worker thread, or
    # a listener's (never on the event loop, which they wait on).

    def send_card(self, channel: str, case: CaseView, *, remark: str = "") -> CardPlace:
        async def post() -> CardPlace:
            message = await self._case_message(case, remark=remark)
            return CardPlace(channel, await self._post(channel, message))

        return self._wait(post)

    def edit_card(self, where: CardPlace, case: CaseView) -> None:
        self._wait(lambda: self._edit(where, case))

    def send_reply(self, address: str, case: CaseView, text: str, *, public: bool) -> None:
        """In the asker's personal chat, never where they asked (whatever ``public``)."""
        reply = render(messages.reply(case, text), text=True)
        self._wait(lambda: self.send_privately(address, reply))

    def send_reminder(self, channel: str, team: Team, cases: Sequence[CaseView]) -> None:
        # Without the cases' steps: a Teams button redraws the card it is on (the reminder).
        reminder = messages.reminder(team, cases, self.sla_hours, steps=False)
        self._wait(lambda: self._post(channel, render(reminder, text=True)))

    def send_text(self, channel: str, markdown: str) -> None:
        self._wait(lambda: self._post(channel, render(messages.notice(markdown), text=True)))

    def send_notice(self, channel: str, markdown: str) -> None:
        message = Activity(type="message", text=markdown, text_format="markdown")
        self._wait(lambda: self._post(channel, message))

    def send_to_person(self, address: str, markdown: str) -> None:
        message = render(messages.notice(markdown), text=True)
        self._wait(lambda: self.send_privately(address, message))

    def _wait(self, make: Callable[[], Awaitable[T]]) -> T:
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("the Teams adapter is not running")

        async def run() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        try:
            return future.result(TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise

    # The work, on the event loop.

    async def _edit(self, where: CardPlace, case: CaseView) -> None:
        conversation_id, activity_id = where
        activity = await self._case_message(case)
        activity.id = activity_id
        reference = await self._reference(conversation_id)
        await self._in(reference, lambda context: update(context, activity))

    async def _case_message(self, case: CaseView, *, remark: str = "") -> Activity:
        """The case's card as a message, with the names of the people it shows."""
        names = await asyncio.to_thread(self.names_in, case)
        return render_case(case, names, remark=remark)

    async def _reference(self, conversation_id: str) -> ConversationReference:
        url, bot_id = await asyncio.to_thread(lambda: (self.service_url(), self.bot_id()))
        return channel_reference(conversation_id, url, bot_id)

    async def _post(self, conversation_id: str, activity: Activity) -> str:
        reference = await self._reference(conversation_id)
        return await self._in(reference, lambda context: send(context, activity))

    async def tell_privately(
        self, context: TurnContext, address: str, activity: Activity, *, said: str, failed: str
    ) -> None:
        """Send ``activity`` to the person of ``address`` in their personal chat, and say
        ``said`` (a neutral line) in the turn's conversation; ``failed`` instead when the
        personal chat cannot be reached. What is private never appears in the conversation."""
        note = said
        try:
            await self.send_privately(address, activity)
        except Exception as error:  # whatever Teams says, it must not go public
            log.warning("teams: not sent privately: %s", type(error).__name__)
            note = failed
        await send(context, note)

    async def send_privately(self, conversation_ref: str, activity: Activity) -> str:
        """Send ``activity`` to the person of ``conversation_ref`` in their personal chat with
        the bot (opened if need be), never in the channel or group chat the reference names.
        Returns the sent activity's id."""
        reference = await self._personal_chat(conversation_ref)
        return await self._in(reference, lambda context: send(context, activity))

    async def _personal_chat(self, conversation_ref: str) -> ConversationReference:
        if conversation_ref.lstrip().startswith("{"):
            reference = reference_from(conversation_ref)
            conversation = reference.conversation
            if conversation.conversation_type in (None, "personal") and not conversation.is_group:
                return reference
            user, tenant = reference.user.id, conversation.tenant_id or self._tenant
            url = reference.service_url or await asyncio.to_thread(self.service_url)
        else:  # a case logged from the command line names only the asker: teams:<id>
            platform, _, user = conversation_ref.partition(":")
            if platform != PLATFORM or not user:
                raise LookupError(f"cannot reach {conversation_ref!r} in Teams")
            tenant, url = self._tenant, await asyncio.to_thread(self.service_url)
        state = self._state()
        chat_with = functools.partial(state.chat_with, PLATFORM, user, tenant=tenant or "", url=url)
        known = await asyncio.to_thread(chat_with)
        if known is not None:
            return reference_from(known)
        bot_id = await asyncio.to_thread(self.bot_id)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot_id or None),
            members=[ChannelAccount(id=user)],
            tenant_id=tenant or None,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        opened: list[ConversationReference] = []

        async def remember(context: TurnContext) -> None:
            opened.append(TurnContext.get_conversation_reference(context.activity))

        await self._adapter.create_conversation(
            self._app_id, remember, parameters, channel_id=CHANNEL_ID, service_url=url
        )
        opened[0].activity_id = None
        chat = json.dumps(opened[0].serialize(), separators=(",", ":"))
        keep = functools.partial(
            state.remember_chat, PLATFORM, user, chat, tenant=tenant or "", url=url
        )
        await asyncio.to_thread(keep)
        return opened[0]

    async def _in(self, reference: ConversationReference, work: Callable[[Any], Awaitable[T]]) -> T:
        return await proactive(self._adapter, reference, self._app_id, work)
