"""Case notifications in Slack: the outbox's side (post, reply, remind) and card updates.

Where a case's card is: Slack needs a card's channel and ``ts`` to update it. A button pressed
on the card carries both, and the reply modal keeps them; the latest card of each case posted
or touched is kept in the platform state every instance shares
(:meth:`bot.platform_state.PlatformState.place_card`), for changes made elsewhere (App Home
buttons, the asker's note, another instance). When a card is not known (its place was purged,
or could not be written), the updated card is posted again with a remark that earlier ones
are out of date: reviewers always see the current state, at the cost of an extra message.

The asker's choice comes first: the core holds a new case's announcement while its asker may
still choose, in the "Add a note or stay anonymous" modal, not to show their name (see
:meth:`bot.assistant.Assistant.escalate`), so the outbox calls :meth:`SlackNotifier.post_case`
only once they have chosen, or two minutes later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from adapters.slack.blocks import reply_message, section
from adapters.slack.case_blocks import case_card, reminder
from adapters.slack.mrkdwn import split, to_mrkdwn, truncate
from adapters.slack.refs import PLATFORM, ConversationRef
from bot import phrases
from bot.case_views import CaseView
from bot.models import Team
from bot.platform_state import CardPlace

if TYPE_CHECKING:
    from bot.platform_state import PlatformState

log = logging.getLogger(__name__)

CardLocation = CardPlace
"""A card's channel and ``ts``."""
_QUOTE_LINE = re.compile(r"^&gt; ?", re.MULTILINE)


class SlackNotifier:
    """Delivers case notifications through the Slack Web API (a :class:`PlatformNotifier`).

    Args:
        client: the bot's Web API client.
        channels: the channel id of each team (``SLACK_HR_CHANNEL``, ``SLACK_COMMS_CHANNEL``).
        sla_hours: said in reminders.
        state: the platform state (``Assistant.state``), where case cards are noted.
        announce_channel: where policy-change announcements go (``SLACK_ANNOUNCE_CHANNEL``).
    """

    platform = PLATFORM

    def __init__(
        self,
        client: WebClient,
        channels: dict[Team, str],
        *,
        sla_hours: float,
        state: Callable[[], PlatformState],
        announce_channel: str = "",
    ) -> None:
        self.client = client
        self.announce_channel = announce_channel
        self.channels = {team: channel for team, channel in channels.items() if channel}
        self.sla_hours = sla_hours
        self._state = state

    def serves_team(self, team: Team) -> bool:
        return team in self.channels

    def post_case(self, case: CaseView) -> None:
        self._post_card(case)

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        """The reply by DM, and in the asker's channel thread when there is one.

        Whether the thread may see it is the core's (:attr:`CaseView.reply_in_public`).
        """
        ref = ConversationRef.decode(conversation_ref)
        fallback, blocks = reply_message(case, text)
        dm = self.client.conversations_open(users=ref.user)["channel"]["id"]
        self.client.chat_postMessage(channel=dm, text=fallback, blocks=blocks)
        if ref.in_channel_thread and case.reply_in_public:
            self.client.chat_postMessage(
                channel=ref.channel, thread_ts=ref.thread_ts, text=fallback, blocks=blocks
            )

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        text, blocks = reminder(team, cases, self.sla_hours)
        self.client.chat_postMessage(channel=self.channels[team], text=text, blocks=blocks)

    def announce(self, platform: str, text: str) -> None:
        """A policy-change announcement in ``SLACK_ANNOUNCE_CHANNEL``."""
        if not self.announce_channel:
            raise LookupError("SLACK_ANNOUNCE_CHANNEL is not set")
        self._post_text(self.announce_channel, text)

    def message_person(self, platform: str, address: str, text: str) -> None:
        """A direct message to the person of ``address``, never in a channel."""
        dm = self.client.conversations_open(users=ConversationRef.decode(address).user)
        self._post_text(dm["channel"]["id"], text)

    def _post_text(self, channel: str, markdown: str) -> None:
        # A quoted clause stays a quote (to_mrkdwn escapes the ">" that marks it).
        pieces = split(_QUOTE_LINE.sub(">", to_mrkdwn(markdown)))
        fallback = truncate(pieces[0] if pieces else markdown, 300)
        blocks = [section(piece) for piece in pieces[:40]]
        self.client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)

    def notify_team(self, team: Team, text: str) -> None:
        blocks = [section(piece) for piece in split(to_mrkdwn(text))[:40]]
        fallback = truncate(text.splitlines()[0] if text else "", 300)
        self.client.chat_postMessage(channel=self.channels[team], text=fallback, blocks=blocks)

    def refresh_card(self, case: CaseView, where: CardLocation | None = None) -> None:
        """Show the case's current state on its card (see the module docstring)."""
        where = where or self._state().card_of(case.id, PLATFORM)
        if where is None:
            if self.serves_team(case.team):
                self._post_card(case, remark=phrases.CARD_OUT_OF_DATE)
            return
        text, blocks = case_card(case)
        self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)
        self._state().place_card(case.id, PLATFORM, where)

    def _post_card(self, case: CaseView, *, remark: str = "") -> None:
        text, blocks = case_card(case, remark=remark)
        sent = self.client.chat_postMessage(
            channel=self.channels[case.team], text=text, blocks=blocks
        )
        where = CardPlace(str(sent["channel"]), str(sent["ts"]))
        self._state().place_card(case.id, PLATFORM, where)
        log.info("posted %s to the %s channel", case.id, case.team)
