"""What every Slack listener shares: the core, the notifier, and a few Slack helpers."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import Block
from adapters.slack.notifier import SlackNotifier
from adapters.slack.refs import ConversationRef, person
from bot.assistant import Assistant
from bot.models import Answer, Question

log = logging.getLogger(__name__)


@dataclass
class SlackBot:
    """The Slack side of one process.

    Attributes:
        assistant: the core.
        notifier: posts cards and replies, and knows where cards are.
        deliver_soon: flushes the outbox in the background (a new case or reply shows at once
            rather than at the delivery loop's next tick).
        answering: answers worked out at once, one per CPU core. The others wait their turn
            without holding the GIL, which leaves the event loop free to acknowledge new
            requests (with 40 concurrent mentions on 2 cores, ack p95 fell from about 0.9 s
            to about 0.4 s, and the last answer came no later).
    """

    assistant: Assistant
    notifier: SlackNotifier
    deliver_soon: Callable[[], None]
    answering: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(max(os.cpu_count() or 1, 1))
    )

    def reply_to(self, question: Question, *, addressed: bool = True) -> Answer | None:
        """The core's answer to a message in a conversation (None: stay silent)."""
        with self.answering:
            return self.assistant.reply_to(question, addressed=addressed)

    def ask(self, text: str, ref: ConversationRef) -> Answer:
        """The core's answer to ``text``, asked by ``ref.user`` where ``ref`` says."""
        with self.answering:
            return self.assistant.ask(self.question(text, ref))

    def question(self, text: str, ref: ConversationRef, display_name: str = "") -> Question:
        return Question(
            text=text,
            user_id=person(ref.user),
            platform="slack",
            conversation=ref.encode(),
            display_name=display_name,
            public=ref.public,
            thread=ref.thread_key,
        )


def display_name(client: WebClient, user: str) -> str:
    """The user's name as Slack shows it, or "" when ``users.info`` fails (it is cosmetic)."""
    try:
        profile = client.users_info(user=user)["user"]
    except SlackApiError as exc:
        log.info("users.info failed for %s: %s", user, exc.response.get("error"))
        return ""
    names = profile.get("profile", {})
    return str(names.get("real_name") or names.get("display_name") or profile.get("name") or "")


def tell(respond: Respond | None, text: str, blocks: list[Block], **options: Any) -> None:
    """Answer through the request's ``response_url`` (ephemeral unless told otherwise)."""
    if respond is None:
        raise RuntimeError("no response_url to answer through")
    options.setdefault("response_type", "ephemeral")
    options.setdefault("replace_original", False)
    sent = respond(text=text, blocks=blocks, **options)
    if sent.status_code != 200:
        raise RuntimeError(f"response_url refused the message: HTTP {sent.status_code}")


def react(client: WebClient, channel: str, ts: str, *, add: bool) -> None:
    """Add or remove the 👀 "working on it" reaction; failures only cost the reaction."""
    try:
        if add:
            client.reactions_add(channel=channel, timestamp=ts, name="eyes")
        else:
            client.reactions_remove(channel=channel, timestamp=ts, name="eyes")
    except SlackApiError as exc:
        log.info("reaction %s failed: %s", "add" if add else "remove", exc.response.get("error"))
