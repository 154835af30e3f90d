"""The answer's buttons: feedback, share, escalate; and the asker's note-or-anonymity modal.

Whoever presses an escalate button must be who asked the question: the core refuses anyone
else (a colleague pressing it on an answer shared in a channel), politely. The asker's
conversation reference keeps the thread only when the answer sits in a channel thread they
can see; a private ``/policy`` answer has none.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from adapters.slack.blocks import QUESTION_VALUE, answer_message, escalated, section
from adapters.slack.context import SlackBot, display_name, tell
from adapters.slack.errors import after_ack
from adapters.slack.forms import done_view, metadata, modal, submitted
from adapters.slack.mrkdwn import mentions
from adapters.slack.refs import ConversationRef, person
from bot import phrases
from bot.assistant import Escalated
from bot.case_views import CaseView
from bot.errors import PolicyBotError
from bot.forms import amend_form

Body = dict[str, Any]
AMEND = "case_amend"
"""The receipt's "Add a note or stay anonymous" button, and the modal it opens."""


def asker_ref(body: Body) -> ConversationRef:
    """Where the presser can be reached again (see the module docstring)."""
    user = body["user"]["id"]
    container = body.get("container", {})
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return ConversationRef(user)
    thread = body.get("message", {}).get("thread_ts", "")
    return ConversationRef(user, container.get("channel_id", ""), thread)


def register(app: App, bot: SlackBot) -> None:
    """Add the staff-side button and modal listeners to ``app``."""

    def on_feedback(
        ack: Ack, body: Body, action: Body, respond: Respond, client: WebClient
    ) -> None:
        ack()
        helpful = action["action_id"] == "feedback_up"
        bot.assistant.feedback(action["value"], helpful, rater=person(body["user"]["id"]))
        thanks = phrases.feedback_thanks(helpful)
        tell(respond, thanks, [section(thanks)])

    def on_share(ack: Ack, body: Body, action: Body, respond: Respond, client: WebClient) -> None:
        ack()
        _question, answer = bot.assistant.answered(action["value"])
        text, blocks = answer_message(answer, shared_by=body["user"]["id"])
        tell(respond, text, blocks, response_type="in_channel")
        respond(delete_original=True)

    def on_escalate(
        ack: Ack, body: Body, action: Body, respond: Respond, client: WebClient
    ) -> None:
        ack()
        team = action["action_id"].removeprefix("escalate_")
        done = _escalate(bot, client, action["value"], team, asker_ref(body))
        tell(respond, *escalated(done.case, again=done.again))

    def on_amend(ack: Ack, body: Body, action: Body, client: WebClient, respond: Respond) -> None:
        ack()
        case = bot.assistant.case(action["value"])
        # Slack offers the choice only after passing the question on: the card waits for it.
        form = modal(
            amend_form(case, await_choice=True), AMEND, {"case": case.id}, notify_on_close=True
        )
        client.views_open(trigger_id=body["trigger_id"], view=form)

    def on_amend_submit(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        typed = submitted(view)
        note, withheld = str(typed.get("note", "")).strip(), typed.get("anonymous") is True
        case_id = metadata(view)["case"]
        try:
            case = bot.assistant.add_to_case(
                case_id, by=person(body["user"]["id"]), note=note, anonymous=withheld
            )
        except PolicyBotError as exc:  # shown on the form, which stays open
            ack(response_action="errors", errors={"note": mentions(str(exc))})
            return
        said = phrases.added_to_case(case, withheld_now=withheld)
        ack(response_action="update", view=done_view(phrases.added_title(case.id), said))
        shown(case)

    def on_amend_closed(
        ack: Ack, body: Body, view: Body, client: WebClient, respond: Respond | None
    ) -> None:
        """The asker closed the modal without saving: the held card may go out as it is."""
        ack()
        shown(bot.assistant.keep_name(metadata(view)["case"], by=person(body["user"]["id"])))

    def shown(case: CaseView) -> None:
        """Show the team the case as the asker left it: the held card goes out now, or the
        card already posted is redrawn."""
        if not case.announcing:
            bot.notifier.refresh_card(case)
        bot.deliver_soon()

    app.action(re.compile(r"^feedback_(up|down)$"))(after_ack(on_feedback))
    app.action("share_answer")(after_ack(on_share))
    app.action(re.compile(r"^escalate_(hr|communications)$"))(after_ack(on_escalate))
    app.action(AMEND)(after_ack(on_amend))
    app.view(AMEND)(after_ack(on_amend_submit))
    app.view_closed(AMEND)(after_ack(on_amend_closed))


def _escalate(
    bot: SlackBot, client: WebClient, value: str, team: str, ref: ConversationRef
) -> Escalated:
    # The card naming the asker must not reach the team before the asker has had the chance
    # to stay anonymous, in the modal offered next: the core holds it until they save or
    # close the modal, or for two minutes.
    asker = bot.question("", ref, display_name=display_name(client, ref.user))
    if value.startswith(QUESTION_VALUE):  # from the apology: there is no answer to attach
        question = value.removeprefix(QUESTION_VALUE)
        return bot.assistant.escalate_question(question, team, asker=asker, await_choice=True)
    return bot.assistant.escalate(value, team, asker=asker, await_choice=True)
