"""Every button and modal of PolicyBot's messages: one listener for the buttons, one for the
modals' submissions, one for a modal closed.

Each press becomes one call, :meth:`bot.assistant.Assistant.press`: the Slack ids (kept as
old messages carry them) are translated into the core's action, and its outcome is drawn.
The core decides who may act and what each status allows, and words its refusals, which
:mod:`adapters.slack.errors` shows to the presser alone (on the modal, next to the field the
core names, when a submission is refused).

Whoever presses an escalate button is the asker for the core, with where they can be reached
again: the thread only when the answer sits in a channel thread they can see (a private
``/policy`` answer has none). A modal keeps the case (and the card it was opened from) in its
``private_metadata``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.blocks import render, section
from adapters.slack.context import SlackBot, display_name, tell
from adapters.slack.errors import after_ack
from adapters.slack.forms import done_view, metadata, modal, submitted
from adapters.slack.home import publish_home
from adapters.slack.mrkdwn import mentions
from adapters.slack.refs import ConversationRef, person
from bot import messages
from bot.assistant import Pressed, refused_field
from bot.errors import PolicyBotError
from bot.platform_state import CardPlace

Body = dict[str, Any]
Inputs = dict[str, object]

BUTTONS = re.compile(
    r"^(feedback_(up|down)|share_answer|escalate_(hr|communications)"
    r"|case_(amend|claim|reply|resolve|reopen|approve)|announce_(confirm|cancel))$"
)
"""The action ids of every button PolicyBot draws."""
FORMS = re.compile(r"^case_(amend|reply|approve)$")
"""The callback ids of its modals: ``case_`` and the core's action."""
CARD = "card"
"""The block id prefix of the buttons on a case's own card (:func:`bot.messages.case_card`),
``card:<case>``; elsewhere they are in ``list:<case>`` or ``approve:<case>``."""


def translate(action_id: str, value: str) -> tuple[str, str, Inputs | None]:
    """The core's action, value and inputs for a Slack button."""
    if action_id.startswith("feedback_"):
        return "feedback", value, {"helpful": action_id == "feedback_up"}
    if action_id == "share_answer":
        return "share", value, None
    if action_id.startswith("escalate_"):
        team = action_id.removeprefix("escalate_")
        if value.startswith(messages.QUESTION_VALUE):  # from the apology: no answer
            question = value.removeprefix(messages.QUESTION_VALUE)
            return "escalate", "", {"team": team, "question": question}
        return "escalate", value, {"team": team}
    if action_id == "announce_confirm":  # carries the versions the preview showed
        return "announce", "", json.loads(value)
    if action_id == "announce_cancel":
        return "cancel", "", None
    return action_id.removeprefix("case_"), value, None


def asker_ref(body: Body) -> ConversationRef:
    """Where the presser can be reached again (see the module docstring)."""
    user = body["user"]["id"]
    container = body.get("container", {})
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return ConversationRef(user)
    thread = body.get("message", {}).get("thread_ts", "")
    return ConversationRef(user, container.get("channel_id", ""), thread)


def card_location(body: Body) -> CardPlace | None:
    """The channel and ts of the case card a button was pressed on; None when it was pressed
    elsewhere (App Home, a reminder listing several cases, a receipt)."""
    container = body.get("container", {})
    block_id = str(body.get("actions", [{}])[0].get("block_id", ""))
    if container.get("type") == "message" and block_id.startswith(f"{CARD}:"):
        return CardPlace(container["channel_id"], container["message_ts"])
    return None


def register(app: App, bot: SlackBot) -> None:
    """Add the button and modal listeners to ``app``."""

    def on_button(ack: Ack, body: Body, action: Body, respond: Respond, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        name, value, inputs = translate(action["action_id"], action.get("value", ""))
        named = display_name(client, user) if name == "escalate" else ""  # for the team
        by = bot.question("", asker_ref(body), display_name=named)
        pressed = bot.assistant.press(name, value, by=by, inputs=inputs)
        where = card_location(body)
        if pressed.form is not None and pressed.case is not None:
            kept = {"case": pressed.case.id}
            if where:  # the card to redraw once the form is saved (a reply's)
                kept |= {"channel": where[0], "ts": where[1]}
            form = modal(
                pressed.form,
                f"case_{name}",
                kept,
                quoted=pressed.quote,
                notify_on_close=pressed.close_counts,
            )
            client.views_open(trigger_id=body["trigger_id"], view=form)
        elif pressed.shared is not None:
            shared = messages.answer(pressed.shared, shared_by=person(user))
            tell(respond, *render(shared), response_type="in_channel")
            respond(delete_original=True)
        elif (done := pressed.escalated) is not None:  # ephemeral (Pressed.private)
            receipt = messages.escalated(
                done.case, again=done.again, await_choice=done.await_choice
            )
            tell(respond, *render(receipt))
        elif pressed.say:
            tell(respond, pressed.say, [section(pressed.say)], replace_original=pressed.replace)
        after(client, user, pressed, where)

    def on_submit(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        name, kept = view["callback_id"].removeprefix("case_"), metadata(view)
        user = body["user"]["id"]
        where = CardPlace(kept["channel"], kept["ts"]) if "channel" in kept else None
        try:
            by = bot.question("", ConversationRef(user))
            pressed = bot.assistant.press(name, kept["case"], by=by, inputs=submitted(view))
        except PolicyBotError as exc:  # shown on the form, which keeps what was typed
            ack(response_action="errors", errors={refused_field(name, exc): mentions(str(exc))})
            return
        if pressed.say:
            ack(response_action="update", view=done_view(pressed.title, pressed.say))
        else:
            ack()
        after(client, user, pressed, where)

    def on_closed(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        """The asker closed the modal without saving: the held card may go out as it is."""
        ack()
        user = body["user"]["id"]
        by = bot.question("", ConversationRef(user))
        pressed = bot.assistant.press("keep_name", metadata(view)["case"], by=by)
        after(client, user, pressed, None)

    def after(client: WebClient, user: str, pressed: Pressed, where: CardPlace | None) -> None:
        """Deliver what the press queued, and show the case's new state on its card (and in
        App Home when it was pressed there)."""
        if pressed.deliver:
            bot.deliver_soon()
        if pressed.redraw and pressed.case is not None:
            bot.notifier.refresh_card(pressed.case, where)
            if where is None and pressed.lists_changed:
                publish_home(bot, client, user)

    app.action(BUTTONS)(after_ack(on_button))
    app.view(FORMS)(after_ack(on_submit))
    app.view_closed("case_amend")(after_ack(on_closed))
