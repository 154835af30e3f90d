"""What every platform's notifier does the same way, written once: :class:`ChannelNotifier`.

The outbox calls a notifier (:class:`bot.ports.Notifier`) from a worker thread, and so do the
listeners that redraw a card. The behaviour is the same on every platform:

- a case card goes to its team's channel, and where it landed is kept in the platform state
  every instance shares (:meth:`bot.platform_state.PlatformState.place_card`);
- a case's card is redrawn where it is (where the button was pressed, or else where it last
  was); when its place is unknown (purged, never written) the card is posted again with a
  remark that earlier ones are out of date, so that reviewers always see the current state;
- a reply goes to the asker (in public too only where the core allows it,
  :attr:`bot.case_views.CaseView.reply_in_public`); a reminder and a team notice to the
  team's channel; an announcement to the announcement channel (refused when none is set);
  a direct message to one person.

What a platform learns from incoming events and needs to reach people later (display names,
its endpoint, the personal chats opened) is kept through :meth:`ChannelNotifier.learn` and
read back by the methods below it, in that shared state too.

A platform's notifier (:mod:`adapters.slack.notifier`, :mod:`adapters.teams.notifier`) adds
only its SDK calls: the ``send_*`` and ``edit_card`` methods.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence

from bot import phrases
from bot.case_views import CaseView
from bot.models import Team
from bot.platform_state import CardPlace, PlatformState

log = logging.getLogger(__name__)


class ChannelNotifier(ABC):
    """A platform's side of :class:`bot.ports.Notifier` (see the module docstring).

    Args:
        channels: each team's channel on the platform (those not set are left out).
        sla_hours: said in reminders.
        state: the platform state (``Assistant.state``), where case cards are noted.
        announce_channel: where policy-change announcements go ("" for nowhere).
    """

    platform: str
    """``slack`` or ``teams``."""
    settings_prefix: str
    """What the platform's settings start with (``SLACK``), to name them in errors."""

    def __init__(
        self,
        channels: Mapping[Team, str],
        *,
        sla_hours: float,
        state: Callable[[], PlatformState],
        announce_channel: str = "",
    ) -> None:
        self.channels = {team: channel for team, channel in channels.items() if channel}
        self.sla_hours = sla_hours
        self.announce_channel = announce_channel
        self._state = state

    def serves_team(self, team: Team) -> bool:
        """Whether this platform has a channel configured for ``team``."""
        return team in self.channels

    def channel(self, team: Team) -> str:
        """The team's channel, or LookupError when none is configured."""
        channel = self.channels.get(team)
        if not channel:
            raise LookupError(
                f"no {self.platform.title()} channel is configured for the {team} team"
            )
        return channel

    # The Notifier port.

    def post_case(self, case: CaseView) -> None:
        self.post_card(case)

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        self.send_reply(conversation_ref, case, text, public=case.reply_in_public)

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        self.send_reminder(self.channel(team), team, cases)

    def announce(self, platform: str, text: str) -> None:
        """A policy-change announcement in the announcement channel."""
        if not self.announce_channel:
            raise LookupError(f"{self.settings_prefix}_ANNOUNCE_CHANNEL is not set")
        self.send_text(self.announce_channel, text)

    def message_person(self, platform: str, address: str, text: str) -> None:
        """A direct message to the person of ``address``, never in a channel."""
        self.send_to_person(address, text)

    def notify_team(self, team: Team, text: str) -> None:
        self.send_notice(self.channel(team), text)

    # Case cards.

    def post_card(self, case: CaseView, *, remark: str = "") -> CardPlace:
        """Post the case's card to its team's channel, and note where it is."""
        where = self.send_card(self.channel(case.team), case, remark=remark)
        self._state().place_card(case.id, self.platform, where)
        log.info("%s: posted %s to the %s channel", self.platform, case.id, case.team)
        return where

    def refresh_card(self, case: CaseView, where: CardPlace | None = None) -> bool:
        """Show the case's current state on its card: at ``where`` (the card a button was
        pressed on), else where its card last was, else on a card posted again to its team's
        channel with a remark. False when there was no card to redraw and the platform has
        no channel for the team."""
        where = where or self._state().card_of(case.id, self.platform)
        if where is None:
            if not self.serves_team(case.team):
                return False
            self.post_card(case, remark=phrases.CARD_OUT_OF_DATE)
            return True
        self.edit_card(where, case)
        self._state().place_card(case.id, self.platform, where)
        return True

    # What the platform tells (blocking: call these from a worker thread).

    def learn(self, person: str, name: str, *, service_url: str = "", bot_id: str = "") -> None:
        """Note what an incoming event tells: the sender's display name, where the platform
        is reached and the bot's own id there (each written only when it changed)."""
        state = self._state()
        state.learn_endpoint(self.platform, service_url=service_url, bot_id=bot_id)
        if name:
            state.learn_name(self.platform, person, name)

    def learned_endpoint(self) -> tuple[str, str]:
        """The service URL and the bot's id last learned ("" for either not known)."""
        state = self._state()
        return state.service_url(self.platform) or "", state.bot_id(self.platform) or ""

    def names_in(self, case: CaseView) -> dict[str, str]:
        """The display names of the people a case's card shows (those known)."""
        people = (case.asker, case.claimed_by, *(event.by for event in case.events))
        return self._state().names_of(self.platform, people)

    def chat_with(self, person: str, *, tenant: str, url: str) -> str | None:
        """The reference of the personal chat opened with ``person``, if any."""
        return self._state().chat_with(self.platform, person, tenant=tenant, url=url)

    def remember_chat(self, person: str, chat: str, *, tenant: str, url: str) -> None:
        """Note the personal chat opened with ``person``, so as not to open one per message."""
        self._state().remember_chat(self.platform, person, chat, tenant=tenant, url=url)

    # The platform's SDK calls.

    @abstractmethod
    def send_card(self, channel: str, case: CaseView, *, remark: str = "") -> CardPlace:
        """Post a case's card (with ``remark`` above it, if any); returns where it is."""

    @abstractmethod
    def edit_card(self, where: CardPlace, case: CaseView) -> None:
        """Redraw the card at ``where`` as the case now is."""

    @abstractmethod
    def send_reply(self, address: str, case: CaseView, text: str, *, public: bool) -> None:
        """A reviewer's reply to the asker of ``address``; ``public``: also where they asked,
        when that was a thread others see."""

    @abstractmethod
    def send_reminder(self, channel: str, team: Team, cases: Sequence[CaseView]) -> None:
        """The team's reminder of the cases waiting past the SLA."""

    @abstractmethod
    def send_text(self, channel: str, markdown: str) -> None:
        """An announcement (the core's neutral markdown) in ``channel``."""

    @abstractmethod
    def send_notice(self, channel: str, markdown: str) -> None:
        """A notice for a team in its channel."""

    @abstractmethod
    def send_to_person(self, address: str, markdown: str) -> None:
        """A message to one person, privately."""
