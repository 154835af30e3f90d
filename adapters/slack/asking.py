"""Staff asking: mentions, direct messages, follow-ups in a thread, and ``/policy``.

Events are acknowledged by bolt before the listener runs; ``/policy`` acknowledges first thing.
The answer is worked out after the acknowledgement, on bolt's listener threads.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack import private
from adapters.slack.blocks import answer_message, blocks, help_message, reloaded
from adapters.slack.context import SlackBot, react, tell
from adapters.slack.errors import after_ack
from adapters.slack.mrkdwn import from_slack
from adapters.slack.refs import ConversationRef, person
from bot import messages
from bot.commands import parse

Event = dict[str, Any]


def ignored(event: Event, bot_user_id: str | None) -> bool:
    """Edits, deletions, joins, bots (this one included) and anything without a person."""
    return bool(
        event.get("subtype")
        or event.get("bot_id")
        or event.get("hidden")
        or not event.get("user")
        or event.get("user") == bot_user_id
    )


def register(app: App, bot: SlackBot) -> None:
    """Add the asking listeners to ``app``."""

    def on_mention(event: Event, client: WebClient, context: BoltContext) -> None:
        if ignored(event, context.bot_user_id) or event["channel"].startswith("D"):
            return  # (a DM arrives as message.im, answered once, there)
        thread = event.get("thread_ts") or event["ts"]
        answer(bot, client, event, thread, context.bot_user_id, addressed=True)

    def on_message(event: Event, client: WebClient, context: BoltContext) -> None:
        if ignored(event, context.bot_user_id):
            return
        if event.get("channel_type") == "im":
            answer(bot, client, event, event.get("thread_ts", ""), context.bot_user_id)
        # A mention arrives as app_mention too: answered once, there. Only a reply in a
        # thread can continue a conversation with the bot, which answers mentions in threads.
        elif event.get("thread_ts") and f"<@{context.bot_user_id}>" not in event.get("text", ""):
            answer(bot, client, event, event["thread_ts"], context.bot_user_id, addressed=False)

    def on_policy(
        ack: Ack, body: dict[str, Any], command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        text = from_slack(command.get("text", ""))
        user = command["user_id"]
        kind = parsed.kind if (parsed := parse(text)) else None
        if kind == "help" or not text:  # a bare /policy: how to use it
            tell(respond, *help_message())
            return
        if kind == "reload":
            report = bot.assistant.reload(requested_by=person(user))
            tell(respond, *reloaded(user, report.summary()), response_type="in_channel")
            return
        if kind == "insights":  # admins only (the core refuses anyone else); only they see it
            digest = bot.assistant.reports.digest(person(user))
            tell(respond, digest.title, blocks(messages.insights(digest).parts))
            return
        # The answer is private: a reviewer's reply will go to the asker's DM only.
        result = bot.ask(text, ConversationRef(user))
        tell(respond, *answer_message(result, share=True))

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.command("/policy")(after_ack(on_policy))


def answer(
    bot: SlackBot,
    client: WebClient,
    event: Event,
    thread: str,
    bot_user: str | None,
    *,
    addressed: bool | None = None,
) -> None:
    """Answer one message where it was asked, with 👀 on it meanwhile.

    ``addressed``: a mention (True) or a channel message without one (False), which the core
    answers only as a follow-up in a thread it answered (:meth:`Assistant.listens`); None for
    a direct message, always answered.
    """
    channel, user = event["channel"], event["user"]
    text = from_slack(event.get("text", ""), bot_user_id=bot_user)
    question = bot.question(text, ConversationRef(user, channel, thread))
    if addressed is not None and not bot.assistant.listens(question, addressed=addressed):
        return
    if not text:
        fallback, blocks = help_message()
        client.chat_postMessage(
            channel=channel, thread_ts=thread or None, text=fallback, blocks=blocks
        )
        return
    react(client, channel, event["ts"], add=True)
    try:
        result = bot.reply_to(question, addressed=addressed is not False)
        if result is None:  # a follow-up the documents do not answer: people talk there too
            return
        if result.private:  # the asker's own situation: theirs alone (adapters.slack.private)
            private.reply(client, result, user=user, channel=channel, thread=thread)
            return
        fallback, blocks = answer_message(result)
        client.chat_postMessage(
            channel=channel, thread_ts=thread or None, text=fallback, blocks=blocks
        )
    finally:
        react(client, channel, event["ts"], add=False)
