"""Case notifications to Teams: the Bot Framework calls of
:class:`adapters.notifying.ChannelNotifier`, which decides what is sent where (the same on
every platform) and keeps what is learned in the platform state every instance shares.

The outbox calls :class:`TeamsNotifier` from a worker thread, and so do the listeners (through
``asyncio.to_thread``); each Bot Framework call runs on the server's event loop, and the
thread waits for it. A failure raises, so the outbox tries again later.

- A case card goes to ``TEAMS_HR_CHANNEL`` / ``TEAMS_COMMS_CHANNEL`` (channel conversation
  ids), at ``TEAMS_SERVICE_URL`` or else the service URL of the latest incoming activity. The id
  Teams gives the posted card is kept, so that the card can be updated in place.
- A reply goes to the asker's personal chat: the stored reference when they asked there; else
  a one-to-one chat the bot opens with them (the connector's create-conversation call), never
  the channel they asked in, where others would read it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

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
"""Seconds a Bot Framework call may take, retries included; well inside the outbox's 5-minute
lease."""


class TeamsNotifier(ChannelNotifier):
    """The Teams side of :class:`bot.ports.Notifier` (see the module docstring). Every method
    but :meth:`start` and :meth:`tell_privately` blocks: call it from a worker thread.

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
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, _app: web.Application) -> None:
        """Remember the server's event loop (an aiohttp on_startup hook)."""
        self._loop = asyncio.get_running_loop()

    def learn_from(self, activity: Activity) -> None:
        """Note the sender's name, the service URL and the bot's id of an incoming activity."""
        sender, bot = activity.from_property, activity.recipient
        self.learn(
            person_id(sender, self._settings),
            (sender.name if sender else "") or "",
            service_url=activity.service_url or "",
            bot_id=(bot.id if bot else "") or "",
        )

    # ChannelNotifier's SDK calls.

    def send_card(self, channel: str, case: CaseView, *, remark: str = "") -> CardPlace:
        card = render_case(case, self.names_in(case), remark=remark)
        return CardPlace(channel, self._post(channel, card))

    def edit_card(self, where: CardPlace, case: CaseView) -> None:
        card = render_case(case, self.names_in(case))
        card.id = where.message
        self._in(self._channel(where.conversation), lambda context: update(context, card))

    def send_reply(self, address: str, case: CaseView, text: str, *, public: bool) -> None:
        """In the asker's personal chat (the core never asks for ``public`` in Teams)."""
        self.send_privately(address, render(messages.reply(case, text), text=True))

    def send_reminder(self, channel: str, team: Team, cases: Sequence[CaseView]) -> None:
        # Without the cases' steps: a Teams button redraws the card it is on (the reminder).
        reminder = messages.reminder(team, cases, self.sla_hours, steps=False)
        self._post(channel, render(reminder, text=True))

    def send_text(self, channel: str, markdown: str) -> None:
        self._post(channel, render(messages.notice(markdown), text=True))

    def send_notice(self, channel: str, markdown: str) -> None:
        self._post(channel, Activity(type="message", text=markdown, text_format="markdown"))

    def send_to_person(self, address: str, markdown: str) -> None:
        self.send_privately(address, render(messages.notice(markdown), text=True))

    # Sending privately.

    async def tell_privately(
        self, context: TurnContext, address: str, activity: Activity, *, said: str, failed: str
    ) -> None:
        """Send ``activity`` to the person of ``address`` in their personal chat, and say
        ``said`` (a neutral line) in the turn's conversation; ``failed`` instead when the
        personal chat cannot be reached. What is private never appears in the conversation
        (on the event loop)."""
        note = said
        try:
            await asyncio.to_thread(self.send_privately, address, activity)
        except Exception as error:  # whatever Teams says, it must not go public
            log.warning("teams: not sent privately: %s", type(error).__name__)
            note = failed
        await send(context, note)

    def send_privately(self, conversation_ref: str, activity: Activity) -> str:
        """Send ``activity`` to the person of ``conversation_ref`` in their personal chat with
        the bot (opened if need be), never in the channel or group chat the reference names.
        Returns the sent activity's id."""
        reference = self._personal_chat(conversation_ref)
        return self._in(reference, lambda context: send(context, activity))

    def _personal_chat(self, conversation_ref: str) -> ConversationReference:
        if conversation_ref.lstrip().startswith("{"):
            reference = reference_from(conversation_ref)
            conversation = reference.conversation
            if conversation.conversation_type in (None, "personal") and not conversation.is_group:
                return reference
            user, tenant = reference.user.id, conversation.tenant_id or self._tenant
            url = reference.service_url or self._url()
        else:  # a case logged from the command line names only the asker: teams:<id>
            platform, _, user = conversation_ref.partition(":")
            if platform != PLATFORM or not user:
                raise LookupError(f"cannot reach {conversation_ref!r} in Teams")
            tenant, url = self._tenant, self._url()
        known = self.chat_with(user, tenant=tenant or "", url=url)
        if known is not None:
            return reference_from(known)
        bot_id = self._bot_id()
        opened = self._run(lambda: self._open_chat(user, bot_id, tenant, url))
        chat = json.dumps(opened.serialize(), separators=(",", ":"))
        self.remember_chat(user, chat, tenant=tenant or "", url=url)
        return opened

    async def _open_chat(
        self, user: str, bot_id: str, tenant: str, url: str
    ) -> ConversationReference:
        """Open a one-to-one chat with ``user`` (the connector's create-conversation call)."""
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
        return opened[0]

    # Plumbing.

    def _post(self, conversation_id: str, activity: Activity) -> str:
        return self._in(self._channel(conversation_id), lambda context: send(context, activity))

    def _channel(self, conversation_id: str) -> ConversationReference:
        return channel_reference(conversation_id, self._url(), self._bot_id())

    def _url(self) -> str:
        """``TEAMS_SERVICE_URL``, or the latest incoming activity's."""
        url = self._service_url or self.learned_endpoint()[0]
        if not url:
            raise LookupError("no Teams service URL yet: set TEAMS_SERVICE_URL")
        return url

    def _bot_id(self) -> str:
        """The bot's id in conversations, as last seen, or the app's."""
        return self.learned_endpoint()[1] or (f"28:{self._app_id}" if self._app_id else "")

    def _in(
        self, reference: ConversationReference, work: Callable[[TurnContext], Awaitable[T]]
    ) -> T:
        """Run ``work`` in a proactive turn in ``reference``'s conversation, and wait for it."""
        return self._run(lambda: proactive(self._adapter, reference, self._app_id, work))

    def _run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run ``make()`` on the server's event loop, and wait for it (from a worker thread)."""
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
