"""Case notifications to Teams: case cards in the team channels, replies to askers.

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

from adapters.teams.announcing import text_message
from adapters.teams.case_cards import case_message, reminder_message, reply_message
from adapters.teams.identity import (
    CHANNEL_ID,
    PLATFORM,
    channel_reference,
    person_id,
    reference_from,
)
from adapters.teams.sending import proactive, send, update
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


class TeamsNotifier:
    """The Teams side of :class:`bot.ports.Notifier` (see the module docstring).

    Args:
        adapter: the botbuilder adapter that sends.
        settings: app id, team channels, service URL, tenant.
        state: the platform state (``Assistant.state``).
    """

    platform = PLATFORM

    def __init__(
        self, adapter: CloudAdapter, settings: Settings, *, state: Callable[[], PlatformState]
    ) -> None:
        self._adapter = adapter
        self._app_id = settings.teams.app_id
        self._tenant = settings.teams.tenant_id
        self._channels = {
            "hr": settings.teams.hr_channel,
            "communications": settings.teams.comms_channel,
        }
        self._service_url = settings.teams.service_url
        self._announce_channel = settings.teams.announce_channel
        self._sla_hours = settings.sla_hours
        self._configured_bot_id = f"28:{self._app_id}" if self._app_id else ""
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state = state

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

    def remember_card(self, case_id: str, conversation_id: str, activity_id: str) -> None:
        """Note where a case's latest card is (blocking)."""
        self._state().place_card(case_id, PLATFORM, CardPlace(conversation_id, activity_id))

    def service_url(self) -> str:
        """``TEAMS_SERVICE_URL``, or the latest incoming activity's (blocking)."""
        url = self._service_url or self._state().service_url(PLATFORM)
        if not url:
            raise LookupError("no Teams service URL yet: set TEAMS_SERVICE_URL")
        return url

    def bot_id(self) -> str:
        """The bot's id in conversations, as last seen (blocking)."""
        return self._state().bot_id(PLATFORM) or self._configured_bot_id

    def serves_team(self, team: Team) -> bool:
        return bool(self._channels.get(team))

    # The Notifier port: synchronous, called from the outbox's worker thread.

    def post_case(self, case: CaseView) -> None:
        self._wait(lambda: self.post_case_card(case))

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        self._wait(lambda: self._deliver(conversation_ref, case, text))

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        message = reminder_message(team, cases, self._sla_hours)
        self._wait(lambda: self._post(self._channel(team), message))

    def announce(self, platform: str, text: str) -> None:
        """A policy-change announcement in ``TEAMS_ANNOUNCE_CHANNEL``."""
        if not self._announce_channel:
            raise LookupError("TEAMS_ANNOUNCE_CHANNEL is not set")
        self._wait(lambda: self._post(self._announce_channel, text_message(text)))

    def message_person(self, platform: str, address: str, text: str) -> None:
        """A message in the person's personal chat with the bot, never in a channel."""
        self._wait(lambda: self.send_privately(address, text_message(text)))

    def notify_team(self, team: Team, text: str) -> None:
        message = Activity(type="message", text=text, text_format="markdown")
        self._wait(lambda: self._post(self._channel(team), message))

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

    async def post_case_card(self, case: CaseView) -> str:
        """Post a case's card to its team's channel; returns the card's activity id."""
        channel = self._channel(case.team)
        message = await self.case_message(case)
        activity_id = await self._post(channel, message)
        await asyncio.to_thread(self.remember_card, case.id, channel, activity_id)
        log.info("teams: posted the card of %s to the %s channel", case.id, case.team)
        return activity_id

    async def update_case_card(self, case: CaseView) -> bool:
        """Redraw a case's card where it was posted; False when its id is not known."""
        where = await asyncio.to_thread(self._state().card_of, case.id, PLATFORM)
        if where is None:
            return False
        conversation_id, activity_id = where
        activity = await self.case_message(case)
        activity.id = activity_id
        reference = await self._reference(conversation_id)
        await self._in(reference, lambda context: update(context, activity))
        return True

    async def case_message(self, case: CaseView) -> Activity:
        """The case's card as a message, with the names of the people it shows."""
        return case_message(case, await asyncio.to_thread(self.names_in, case))

    async def _reference(self, conversation_id: str) -> ConversationReference:
        url, bot_id = await asyncio.to_thread(lambda: (self.service_url(), self.bot_id()))
        return channel_reference(conversation_id, url, bot_id)

    def _channel(self, team: Team) -> str:
        channel = self._channels.get(team)
        if not channel:
            raise LookupError(f"no Teams channel is configured for the {team} team")
        return channel

    async def _post(self, conversation_id: str, activity: Activity) -> str:
        reference = await self._reference(conversation_id)
        return await self._in(reference, lambda context: send(context, activity))

    async def _deliver(self, conversation_ref: str, case: CaseView, text: str) -> None:
        await self.send_privately(conversation_ref, reply_message(case, text))

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
