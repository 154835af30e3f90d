"""Policy-change announcements in Slack: ``/policy announce [VERSION]`` and its preview (whose
Confirm and Cancel buttons go through :mod:`adapters.slack.pressing`), and ``/policy mute`` /
``/policy unmute``.

The preview is ephemeral: only the admin sees it, with the post as it will read and how many
people will hear directly. Confirm carries the versions the preview showed, so a reload in
between is refused rather than announced unseen. The core decides who may announce and words
every reply (:mod:`bot.cases.announcements`); this module only translates.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.blocks import Rendered, render, section
from adapters.slack.context import SlackBot, tell
from adapters.slack.errors import after_ack
from adapters.slack.mrkdwn import from_slack
from adapters.slack.refs import PLATFORM, person
from bot import messages
from bot.cases.announcements import Preview
from bot.commands import parse

Body = dict[str, Any]
CONFIRM, CANCEL = "announce_confirm", "announce_cancel"


OURS = ("mute", "unmute", "announce")


def is_ours(command: Body) -> bool:
    """Whether a ``/policy`` command is one of this module's (a bolt matcher): ``mute``,
    ``unmute``, ``announce`` or ``announce VERSION`` (:func:`bot.commands.parse`), and no
    question that starts so."""
    parsed = parse(from_slack(command.get("text", "")))
    return parsed is not None and parsed.kind in OURS


def register(app: App, bot: SlackBot) -> None:
    """Add the announcement listeners to ``app``; call it before the catch-all ``/policy``."""

    def on_command(
        ack: Ack, body: Body, command: Body, respond: Respond, client: WebClient
    ) -> None:
        ack()
        parsed = parse(from_slack(command.get("text", "")))
        user = person(command["user_id"])
        if parsed is None:  # (is_ours let it through)
            return
        if parsed.kind in ("mute", "unmute"):
            reply = bot.assistant.mute(user, PLATFORM, muted=parsed.kind == "mute")
            tell(respond, reply, [section(reply)])
            return
        preview = bot.assistant.preview_announcement(user, since=parsed.argument or None)
        tell(respond, *preview_message(preview))

    app.command("/policy", matchers=[is_ours])(after_ack(on_command))


def preview_message(preview: Preview) -> Rendered:
    """The admin's preview (:func:`bot.messages.preview`)."""
    return render(messages.preview(preview))
