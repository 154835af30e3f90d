"""Staff asking: mentions, direct messages, follow-ups in a thread, and ``/policy`` with its
commands (``help``, ``reload``, ``insights``, ``mute``, ``unmute``, ``announce [VERSION]``).

Events are acknowledged by bolt before the listener runs; ``/policy`` acknowledges first thing.
The answer is worked out after the acknowledgement, on bolt's listener threads. The core
decides who may run a command and words every reply; an announcement's preview is the admin's
alone, and its Confirm and Cancel buttons go through :mod:`adapters.slack.pressing`.

A personal situation told in a channel (an answer the core marks ``private``,
:mod:`bot.answers.privacy`) goes to the asker by direct message: it stays (an ephemeral message
is gone when Slack reloads), its buttons keep working, and a case opened from it is answered
there, never in the public thread. The thread gets only :data:`bot.phrases.REPLIED_PRIVATELY`.
When the direct message cannot be sent, the answer is shown to the asker alone as an ephemeral
message in the thread; if that fails too, the thread is told to write to the bot directly.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import Rendered, blocks, context, render, section
from adapters.slack.context import SlackBot, react, tell
from adapters.slack.errors import after_ack
from adapters.slack.mrkdwn import from_slack
from adapters.slack.refs import PLATFORM, ConversationRef, person
from bot import messages, phrases
from bot.commands import parse
from bot.models import Answer

Event = dict[str, Any]

log = logging.getLogger(__name__)


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
        parsed = parse(text)
        kind = parsed.kind if parsed else None
        if kind == "help":  # a bare /policy too: how to use it
            tell(respond, *render(messages.welcome(PLATFORM)))
        elif kind == "reload":
            report = bot.assistant.reload(requested_by=person(user))
            said = messages.reloaded(messages.Person(person(user)), report.summary())
            tell(respond, *render(said), response_type="in_channel")
        elif kind == "insights":  # admins only (the core refuses anyone else); only they see it
            digest = bot.assistant.reports.digest(person(user))
            tell(respond, digest.title, blocks(messages.insights(digest).parts))
        elif kind in ("mute", "unmute"):
            reply = bot.assistant.mute(person(user), PLATFORM, muted=kind == "mute")
            tell(respond, reply, [section(reply)])
        elif parsed is not None and kind == "announce":  # admins only; the preview is theirs
            preview = bot.assistant.preview_announcement(
                person(user), since=parsed.argument or None
            )
            tell(respond, *render(messages.preview(preview)))
        else:  # private: a reviewer's reply will go to the asker's DM only
            result = bot.ask(text, ConversationRef(user))
            tell(respond, *render(messages.answer(result, share=True)))

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
        post(client, channel, thread, render(messages.welcome(PLATFORM)))
        return
    react(client, channel, event["ts"], add=True)
    try:
        result = bot.reply_to(question, addressed=addressed is not False)
        if result is None:  # a follow-up the documents do not answer: people talk there too
            return
        if result.private:  # the asker's own situation: theirs alone (the module docstring)
            reply_privately(client, result, user=user, channel=channel, thread=thread)
            return
        post(client, channel, thread, render(messages.answer(result)))
    finally:
        react(client, channel, event["ts"], add=False)


def post(client: WebClient, channel: str, thread: str, message: Rendered) -> None:
    """Post a rendered message in ``channel``, in ``thread`` ("" for none)."""
    text, drawn = message
    client.chat_postMessage(channel=channel, thread_ts=thread or None, text=text, blocks=drawn)


def reply_privately(
    client: WebClient, answer: Answer, *, user: str, channel: str, thread: str
) -> None:
    """Send ``answer`` to ``user`` privately and say so, neutrally, in the thread ("" for
    none) of ``channel`` where they asked (the module docstring says how)."""
    fallback, drawn = render(messages.answer(answer))
    note = phrases.REPLIED_PRIVATELY
    try:
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=fallback, blocks=drawn)
    except SlackApiError as exc:
        log.warning("private answer: no direct message (%s)", exc.response.get("error"))
        try:
            client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread or None, text=fallback, blocks=drawn
            )
        except SlackApiError as again:
            log.warning("private answer: no ephemeral either (%s)", again.response.get("error"))
            note = phrases.PRIVATE_UNREACHABLE
    post(client, channel, thread, (note, [context(note)]))
