"""Case notifications in Slack: the outbox's side (post, reply, remind) and card updates.

What is done when is :class:`adapters.notifying.ChannelNotifier`'s, the same on every
platform; this module makes its Slack calls. Where a case's card is: Slack needs a card's
channel and ``ts`` to update it. A button pressed on the card carries both, and the reply
modal keeps them; for changes made elsewhere (App Home buttons, the asker's note, another
instance), the card's last place is read from the platform state every instance shares.

The asker's choice comes first: the core holds a new case's announcement while its asker may
still choose, in the "Add a note or stay anonymous" modal, not to show their name (see
:meth:`bot.assistant.Assistant.escalate`), so the outbox calls :meth:`SlackNotifier.post_case`
only once they have chosen, or two minutes later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from slack_sdk import WebClient

from adapters.notifying import ChannelNotifier
from adapters.slack.blocks import render, section
from adapters.slack.mrkdwn import split, to_mrkdwn, truncate
from adapters.slack.refs import PLATFORM, ConversationRef
from bot import messages
from bot.case_views import CaseView
from bot.models import Team
from bot.platform_state import CardPlace, PlatformState

_QUOTE_LINE = re.compile(r"^&gt; ?", re.MULTILINE)


class SlackNotifier(ChannelNotifier):
    """Delivers case notifications through the Slack Web API (the behaviour is
    :class:`adapters.notifying.ChannelNotifier`'s; this class makes its Slack calls).

    Args:
        client: the bot's Web API client.
        channels: the channel id of each team (``SLACK_HR_CHANNEL``, ``SLACK_COMMS_CHANNEL``).
        sla_hours: said in reminders.
        state: the platform state (``Assistant.state``), where case cards are noted.
        announce_channel: where policy-change announcements go (``SLACK_ANNOUNCE_CHANNEL``).
    """

    platform = PLATFORM
    settings_prefix = "SLACK"

    def __init__(
        self,
        client: WebClient,
        channels: dict[Team, str],
        *,
        sla_hours: float,
        state: Callable[[], PlatformState],
        announce_channel: str = "",
    ) -> None:
        super().__init__(
            channels, sla_hours=sla_hours, state=state, announce_channel=announce_channel
        )
        self.client = client

    def send_card(self, channel: str, case: CaseView, *, remark: str = "") -> CardPlace:
        text, blocks = render(messages.case_card(case, remark=remark))
        sent = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return CardPlace(str(sent["channel"]), str(sent["ts"]))

    def edit_card(self, where: CardPlace, case: CaseView) -> None:
        text, blocks = render(messages.case_card(case))
        self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)

    def send_reply(self, address: str, case: CaseView, text: str, *, public: bool) -> None:
        """The reply by DM, and in the asker's channel thread when there is one (and
        ``public``)."""
        ref = ConversationRef.decode(address)
        fallback, blocks = render(messages.reply(case, text))
        dm = self.client.conversations_open(users=ref.user)["channel"]["id"]
        self.client.chat_postMessage(channel=dm, text=fallback, blocks=blocks)
        if ref.in_channel_thread and public:
            self.client.chat_postMessage(
                channel=ref.channel, thread_ts=ref.thread_ts, text=fallback, blocks=blocks
            )

    def send_reminder(self, channel: str, team: Team, cases: Sequence[CaseView]) -> None:
        text, blocks = render(messages.reminder(team, cases, self.sla_hours))
        self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)

    def send_to_person(self, address: str, markdown: str) -> None:
        dm = self.client.conversations_open(users=ConversationRef.decode(address).user)
        self.send_text(dm["channel"]["id"], markdown)

    def send_text(self, channel: str, markdown: str) -> None:
        # A quoted clause stays a quote (to_mrkdwn escapes the ">" that marks it).
        pieces = split(_QUOTE_LINE.sub(">", to_mrkdwn(markdown)))
        fallback = truncate(pieces[0] if pieces else markdown, 300)
        blocks = [section(piece) for piece in pieces[:40]]
        self.client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)

    def send_notice(self, channel: str, markdown: str) -> None:
        blocks = [section(piece) for piece in split(to_mrkdwn(markdown))[:40]]
        fallback = truncate(markdown.splitlines()[0] if markdown else "", 300)
        self.client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)
