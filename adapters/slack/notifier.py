"""Case notifications in Slack: the outbox's side (post, reply, remind) and card updates.

Where a case's card is: Slack needs a card's channel and ``ts`` to update it. A button pressed
on the card carries both, and the reply modal keeps them; :attr:`SlackNotifier.cards`
remembers the latest card of each case posted or touched by this process, for changes made
elsewhere (App Home buttons, the asker's note). When a card is not known (the process
restarted), the updated card is posted again with a remark that earlier ones are out of date:
reviewers always see the current state, at the cost of an extra message.

The asker's choice comes first: a case opened with an escalate button is *held* (see
:meth:`SlackNotifier.hold`) while its asker may still choose, in the "Add a note or stay
anonymous" modal, not to show their name. While held, :meth:`SlackNotifier.post_case` raises
:class:`AskerChoicePending`, which the outbox treats as any failed delivery: it keeps the card
and tries again later (after 30 s, then 60 s, 120 s...). When the asker saves or closes the
modal, :meth:`SlackNotifier.asker_decided` posts the card at once, as the case now is (without
their name if they chose so), and the outbox's own later attempt is then a no-op. If
the asker does nothing, the hold ends after :data:`ASKER_CHOICE_SECONDS` and the outbox's next
attempt posts the card (about two to four minutes after the case was opened).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from slack_sdk import WebClient

from adapters.slack.blocks import section
from adapters.slack.case_blocks import case_card, reminder
from adapters.slack.mrkdwn import escape, quote, split, to_mrkdwn, truncate
from adapters.slack.refs import PLATFORM, ConversationRef
from bot.case_views import CaseView
from bot.models import TEAM_NAMES, Team

log = logging.getLogger(__name__)

CardLocation = tuple[str, str]
KNOWN_CARDS = 5000
#: How long a new case's card waits for its asker's choice (see the module docstring).
ASKER_CHOICE_SECONDS = 120.0
HoldKey = str | tuple[str | None, str]


class AskerChoicePending(RuntimeError):
    """The case's card waits for its asker to choose whether to show their name (retryable)."""


class SlackNotifier:
    """Delivers case notifications through the Slack Web API (a :class:`PlatformNotifier`).

    Args:
        client: the bot's Web API client.
        channels: the channel id of each team (``SLACK_HR_CHANNEL``, ``SLACK_COMMS_CHANNEL``).
        sla_hours: said in reminders.
    """

    platform = PLATFORM

    def __init__(self, client: WebClient, channels: dict[Team, str], *, sla_hours: float) -> None:
        self.client = client
        self.channels = {team: channel for team, channel in channels.items() if channel}
        self.sla_hours = sla_hours
        self.cards: OrderedDict[str, CardLocation] = OrderedDict()
        self._lock = threading.Lock()
        self._held: dict[HoldKey, float] = {}
        self._early: set[str] = set()  # posted by asker_decided before the outbox got to it

    def serves_team(self, team: Team) -> bool:
        return team in self.channels

    def hold(self, key: HoldKey, seconds: float = ASKER_CHOICE_SECONDS) -> None:
        """Keep the card of case ``key`` (an id, or ``(asker, team)`` for a case being opened)
        out of the team's channel for ``seconds``, or until :meth:`asker_decided`."""
        now = time.monotonic()
        with self._lock:
            for old in [k for k, deadline in self._held.items() if deadline <= now]:
                del self._held[old]  # cases announced elsewhere, or long past their hold
            self._held[key] = now + seconds

    def hold_unannounced(self, case_id: str) -> None:
        """Hold the card of a case just escalated, unless it is out already (the asker pressed
        the button again after choosing, or after the hold ran out)."""
        with self._lock:
            announced = case_id in self.cards or case_id in self._early
        if not announced:
            self.hold(case_id)

    def release(self, key: HoldKey) -> bool:
        """End a hold; whether there was one still running."""
        with self._lock:
            deadline = self._held.pop(key, None)
        return deadline is not None and deadline > time.monotonic()

    def asker_decided(self, case: CaseView) -> None:
        """The asker saved or closed their modal: announce the case now, or show the change."""
        if self.release(case.id) and case.id not in self.cards:
            if self.serves_team(case.team):
                with self._lock:
                    self._early.add(case.id)
                self._post_card(case)
            return  # else another platform's notifier posts it on the outbox's next attempt
        self.refresh_card(case)

    def post_case(self, case: CaseView) -> None:
        if self._is_held(case):
            raise AskerChoicePending(f"{case.id} waits for its asker's choice of anonymity")
        with self._lock:
            early = case.id in self._early
            self._early.discard(case.id)
        if early:  # asker_decided posted it already, and cards show later changes themselves
            log.info("%s was announced when its asker chose", case.id)
            return
        self._post_card(case)

    def _is_held(self, case: CaseView) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in (case.id, (case.asker, case.team)):
                deadline = self._held.get(key)
                if deadline is not None and deadline > now:
                    return True
                self._held.pop(key, None)
        return False

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        """The reply by DM, and in the asker's channel thread when there is one.

        An anonymous case is answered by DM only: a reply in a channel thread would show
        everyone in it who asked.
        """
        ref = ConversationRef.decode(conversation_ref)
        fallback = f"Reply from the {TEAM_NAMES[case.team]} about {case.id}"
        blocks = [
            section(f"*{escape(fallback)}*\nYou asked:\n{quote(truncate(case.question, 1000))}"),
            *(section(piece) for piece in split(to_mrkdwn(text))[:40]),
        ]
        dm = self.client.conversations_open(users=ref.user)["channel"]["id"]
        self.client.chat_postMessage(channel=dm, text=fallback, blocks=blocks)
        if ref.in_channel_thread and not case.anonymous:
            self.client.chat_postMessage(
                channel=ref.channel, thread_ts=ref.thread_ts, text=fallback, blocks=blocks
            )

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        text, blocks = reminder(team, cases, self.sla_hours)
        self.client.chat_postMessage(channel=self.channels[team], text=text, blocks=blocks)

    def remember(self, case_id: str, channel: str, ts: str) -> None:
        """Note where a case's card is (from a button pressed on it)."""
        with self._lock:
            self.cards[case_id] = (channel, ts)
            self.cards.move_to_end(case_id)
            while len(self.cards) > KNOWN_CARDS:
                self.cards.popitem(last=False)

    def refresh_card(self, case: CaseView, where: CardLocation | None = None) -> None:
        """Show the case's current state on its card (see the module docstring)."""
        with self._lock:
            where = where or self.cards.get(case.id)
        if where is None:
            if self.serves_team(case.team):
                self._post_card(
                    case, remark="Updated: earlier cards for this case are out of date."
                )
            return
        text, blocks = case_card(case)
        self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)
        self.remember(case.id, *where)

    def _post_card(self, case: CaseView, *, remark: str = "") -> None:
        text, blocks = case_card(case, remark=remark)
        sent = self.client.chat_postMessage(
            channel=self.channels[case.team], text=text, blocks=blocks
        )
        self.remember(case.id, str(sent["channel"]), str(sent["ts"]))
        log.info("posted %s to the %s channel", case.id, case.team)
