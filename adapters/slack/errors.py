"""The one place where a failure meets the user (bolt's ``@app.error``).

A core refusal or impossible step (``PolicyBotError`` whose message is safe) is shown to the
person alone, as the core worded it. Anything else is logged with its traceback and answered
with a fixed apology and the offer to reach a person; no detail of it ever reaches Slack.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.blocks import Block, render
from adapters.slack.context import tell
from adapters.slack.mrkdwn import from_slack
from bot import messages
from bot.errors import PolicyBotError

log = logging.getLogger(__name__)

Body = dict[str, Any]
Listener = Callable[..., None]


def report(error: Exception, body: Body, client: WebClient, respond: Respond | None) -> None:
    """Log a failure and tell the person concerned (the module docstring says how)."""
    if isinstance(error, PolicyBotError) and error.safe_message:
        log.info("refused or not possible (%s): %s", _kind(body), error)
        text, blocks = render(messages.refusal(str(error)))  # people it names: mentions
    else:
        # The traceback goes to the log; the request body is not logged (it carries
        # people's questions and, for commands, a verification token).
        log.error("failed to handle a Slack %s", _kind(body), exc_info=error)
        text, blocks = render(messages.apology(_question(body)))
    try:
        _tell(body, client, respond, text, blocks)
    except Exception:  # the handler of last resort must not raise
        log.exception("could not tell the user about a failure")


def after_ack(listener: Listener) -> Listener:
    """Send what a listener raises to :func:`report` directly, acknowledging first if need be.

    For listeners that call ``ack()`` themselves (commands, buttons, modals). Bolt (1.30,
    ``ThreadListenerRunner``) replaces a listener's acknowledgement with None when the listener
    raises before ``dispatch()`` has seen the ack: Slack then gets a 404 after 3 s instead of
    the 200. A quick refusal (a non-reviewer pressing Claim) does exactly that. The listener
    must take ``ack``, ``body``, ``client`` and ``respond``, which bolt injects by name.
    """
    names = inspect.signature(listener).parameters
    if not {"ack", "body", "client", "respond"} <= names.keys():
        raise TypeError(f"{listener.__name__} must take ack, body, client and respond")

    @functools.wraps(listener)
    def guarded(**kwargs: Any) -> None:
        try:
            listener(**kwargs)
        except Exception as exc:
            ack: Ack = kwargs["ack"]
            if ack.response is None:  # failed before acknowledging: Slack still needs the ack
                ack()
            report(exc, kwargs["body"], kwargs["client"], kwargs["respond"])

    return guarded


def register(app: App) -> None:
    """Make :func:`report` bolt's error handler too (events, which bolt acknowledges itself)."""
    app.error(report)


def _kind(body: Body) -> str:
    kind = str(body.get("type", "request"))
    if kind == "event_callback":
        return f"{body.get('event', {}).get('type', 'event')} event"
    return kind


def _question(body: Body) -> str:
    if body.get("type") == "event_callback":
        bot_user = (body.get("authorizations") or [{}])[0].get("user_id")
        return from_slack(body.get("event", {}).get("text", "") or "", bot_user_id=bot_user)
    if body.get("command"):
        return from_slack(body.get("text", "") or "")
    return ""


def _tell(
    body: Body, client: WebClient, respond: Respond | None, text: str, blocks: list[Block]
) -> None:
    event = body.get("event", {}) if body.get("type") == "event_callback" else {}
    if event.get("channel") and event.get("type") in ("app_mention", "message"):
        thread = event.get("thread_ts") or (
            event.get("ts") if event["type"] == "app_mention" else None
        )
        client.chat_postMessage(
            channel=event["channel"], thread_ts=thread, text=text, blocks=blocks
        )
        return
    if respond is not None and respond.response_url:
        tell(respond, text, blocks)
        return
    user = event.get("user") or body.get("user", {}).get("id") or body.get("user_id")
    if user:  # App Home, a modal: no channel to answer in, so a direct message
        client.chat_postMessage(channel=user, text=text, blocks=blocks)
