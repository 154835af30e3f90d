"""A personal situation told in a channel: the answer goes to the asker by direct message.

The core marks such an answer ``private`` (:mod:`bot.answers.privacy`). Slack offers two private
places: an ephemeral message in the channel, or the asker's direct message with the bot. The
direct message is used: it stays (an ephemeral message is gone when Slack reloads and never
reaches the asker's other devices), its buttons keep working, and the asker's case, should
they open one from it, is answered in the same direct message, never in the public thread
(the escalation's conversation reference is the direct message). The thread gets only the
neutral :data:`bot.phrases.REPLIED_PRIVATELY`.

If the direct message cannot be sent (Slack refuses ``conversations.open`` or the post), the
answer is shown to the asker alone as an ephemeral message in the thread instead; if that
fails too, the thread is told to write to the bot directly. The answer itself never reaches
the channel.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import answer_message, context
from bot import phrases
from bot.models import Answer

log = logging.getLogger(__name__)


def reply(client: WebClient, answer: Answer, *, user: str, channel: str, thread: str) -> None:
    """Send ``answer`` to ``user`` privately and say so, neutrally, in the thread.

    Args:
        client: the bot's Web API client.
        answer: the core's answer, marked private.
        user: the asker's Slack user id.
        channel: the channel where they asked.
        thread: the thread's ts ("" for none).
    """
    fallback, blocks = answer_message(answer)
    note = phrases.REPLIED_PRIVATELY
    try:
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=fallback, blocks=blocks)
    except SlackApiError as exc:
        log.warning("private answer: no direct message (%s)", exc.response.get("error"))
        try:
            client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread or None, text=fallback, blocks=blocks
            )
        except SlackApiError as again:
            log.warning("private answer: no ephemeral either (%s)", again.response.get("error"))
            note = phrases.PRIVATE_UNREACHABLE
    client.chat_postMessage(
        channel=channel, thread_ts=thread or None, text=note, blocks=[context(note)]
    )
