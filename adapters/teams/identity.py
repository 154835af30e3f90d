"""Who is speaking and how to reach them again: Teams accounts and conversation references.

A person is ``teams:<id>``. Teams gives two ids, the Microsoft Entra object id and the ``29:``
id this bot sees; the core decides which one is the person (:func:`bot.people.person_of`).

The core keeps a conversation reference for each asker as an opaque string: here it is the
serialised botbuilder ``ConversationReference``, with the incoming message's id removed so that
proactive messages start a new message rather than reply to an old one.
"""

from __future__ import annotations

import json
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)

from bot.config import Settings
from bot.models import Question
from bot.people import person_of

PLATFORM = "teams"
CHANNEL_ID = "msteams"


def person_id(account: ChannelAccount | None, settings: Settings) -> str:
    """The ``teams:<id>`` of an account, as the core decides (see the module docstring)."""
    ids = (account.aad_object_id, account.id) if account is not None else ()
    return person_of(PLATFORM, ids, settings)


def reference_json(activity: Activity) -> str:
    """The conversation reference of an incoming activity, serialised for the core."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    # Teams names the tenant in channelData (botbuilder drops the conversation's "tenantId");
    # opening a private chat with the asker later needs it.
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") or {}
    if reference.conversation and not reference.conversation.tenant_id and tenant.get("id"):
        reference.conversation.tenant_id = tenant["id"]
    return json.dumps(reference.serialize(), separators=(",", ":"))


def reference_from(text: str) -> ConversationReference:
    """A reference :func:`reference_json` wrote.

    Raises:
        ValueError: the text is not one.
    """
    data: Any = json.loads(text)
    if not isinstance(data, dict) or "conversation" not in data:
        raise ValueError("not a Teams conversation reference")
    reference = ConversationReference().deserialize(data)
    reference.activity_id = None
    return reference


def question_from(activity: Activity, text: str, settings: Settings) -> Question:
    """The core's :class:`Question` for what a person said (or pressed) in Teams."""
    account = activity.from_property
    return Question(
        text=text,
        user_id=person_id(account, settings),
        platform=PLATFORM,
        conversation=reference_json(activity),
        display_name=(account.name or "") if account else "",
        public=not is_personal(activity),
        # A channel thread, group chat or personal chat: its follow-ups share a window.
        thread=activity.conversation.id if activity.conversation else "",
    )


def is_personal(activity: Activity) -> bool:
    """A one-to-one chat with the bot (the Bot Framework Emulator's chats count as one)."""
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    return kind in (None, "personal") and not (conversation and conversation.is_group)


def mentions_bot(activity: Activity) -> bool:
    """Whether the message @-mentions this bot."""
    bot_id = activity.recipient.id if activity.recipient else None
    for mention in TurnContext.get_mentions(activity):
        mentioned = mention.additional_properties.get("mentioned") or {}
        if bot_id and mentioned.get("id") == bot_id:
            return True
    return False


def channel_reference(conversation_id: str, service_url: str, bot_id: str) -> ConversationReference:
    """A reference to a Teams channel (or any conversation) the bot has been told the id of."""
    return ConversationReference(
        channel_id=CHANNEL_ID,
        service_url=service_url,
        conversation=ConversationAccount(id=conversation_id, is_group=True),
        bot=ChannelAccount(id=bot_id or None),
    )
