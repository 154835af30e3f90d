"""Who and where in Slack: user ids and conversation references.

A conversation reference is what the core stores with a case so that a reviewer's reply can
reach the asker later (``Question.conversation``). Slack's is ``slack:`` followed by compact
JSON: ``slack:{"user":"U123","channel":"C456","thread_ts":"1712.0001"}``. The ``slack:``
prefix lets :class:`adapters.delivery.PlatformDispatch` pick this platform; the user is always
there (a reply always goes to the asker's DM); ``channel`` and ``thread_ts`` only when the
question was asked in a thread the asker can see (never for a private ``/policy`` answer).
A reference that is just ``slack:U123`` (a case logged from the CLI for a Slack user) works too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from adapters.slack.mrkdwn import escape_fit

PLATFORM = "slack"


def person(user: str) -> str:
    """The core's ``platform:user`` id of a Slack user id."""
    return f"{PLATFORM}:{user}"


#: The longest name shown for someone who is not a Slack user.
NAME_LIMIT = 200


def who(person_id: str, name: str | None = None) -> str:
    """How mrkdwn names a person: a mention for Slack users, else their name or id.

    A name or id from elsewhere (Teams, the CLI) is text the person chose: it is escaped, so
    that ``<!channel>`` or ``<https://evil.example|Verify>`` shows as typed, and shortened.
    """
    user = person_id.removeprefix(f"{PLATFORM}:") if person_id.startswith(f"{PLATFORM}:") else ""
    if re.fullmatch(r"[A-Z0-9]+", user):
        return f"<@{user}>"
    return escape_fit(name or person_id, NAME_LIMIT)


@dataclass(frozen=True)
class ConversationRef:
    """Where a Slack asker can be reached again."""

    user: str
    channel: str = ""
    thread_ts: str = ""

    def encode(self) -> str:
        data = {"user": self.user, "channel": self.channel, "thread_ts": self.thread_ts}
        compact = {key: value for key, value in data.items() if value}
        return f"{PLATFORM}:" + json.dumps(compact, separators=(",", ":"), sort_keys=True)

    @property
    def public(self) -> bool:
        """Asked where others read the answer: a channel or group DM, not the bot's DM."""
        return bool(self.channel) and not self.channel.startswith("D")

    @property
    def thread_key(self) -> str:
        """The conversation a question here continues (``Question.thread``): the thread, or
        the DM; "" for a private ``/policy`` answer, which stands alone."""
        if not self.channel:
            return ""
        return f"{self.channel}/{self.thread_ts}" if self.thread_ts else self.channel

    @property
    def in_channel_thread(self) -> bool:
        """A thread in a channel (not a DM, whose replies go to the DM anyway)."""
        return bool(self.thread_ts and self.channel and not self.channel.startswith("D"))

    @classmethod
    def decode(cls, ref: str) -> ConversationRef:
        """Read a reference written by :meth:`encode`, or a bare ``slack:U123``.

        Raises:
            ValueError: not a Slack reference.
        """
        body = ref[len(PLATFORM) + 1 :] if ref.startswith(f"{PLATFORM}:") else ""
        if body.startswith("{"):
            data = json.loads(body)
            return cls(
                str(data["user"]), str(data.get("channel", "")), str(data.get("thread_ts", ""))
            )
        if body:
            return cls(body)
        raise ValueError("not a Slack conversation reference")
