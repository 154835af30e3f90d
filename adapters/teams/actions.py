"""Card buttons, all through one path: escalate, add to a case and feedback (staff); claim,
reply, resolve, reopen and approve (reviewers); an announcement's Confirm and Cancel (admins).

Each button's ``data`` names its ``action`` (see :mod:`adapters.teams.cards`; the names are
kept, as old cards carry them) and becomes one call, :meth:`bot.assistant.Assistant.press`,
with the card's inputs read back by the core's keys. The core decides what is allowed and
words its refusals; :func:`adapters.teams.app.on_turn_error` shows them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.teams.cards import flag, input_id, render
from adapters.teams.identity import question_from
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.sending import send
from bot import messages, phrases
from bot.assistant import STEPS, Assistant, Pressed
from bot.models import Question
from bot.platform_state import CardPlace

log = logging.getLogger(__name__)

Inputs = dict[str, object]
APPROVE_FIELDS = ("question", "text", "clauses")
"""The fields of the approval form (:func:`bot.forms.approve_form`)."""


def translate(data: Mapping[str, Any]) -> tuple[str, str, Inputs]:
    """The core's action, value and inputs for a Teams button's ``data``."""
    action = str(data.get("action", ""))
    case_id = str(data.get("case_id", ""))

    def typed(key: str, form: str = action) -> Any:  # what ``form`` sent for its field ``key``
        return data.get(input_id(form, key, data))

    if action == "escalate":
        note, anonymous = str(typed("note") or ""), flag(typed("anonymous"))
        inputs = {"team": str(data.get("team", "")), "note": note, "anonymous": anonymous}
        return action, str(data.get("answer_id", "")), inputs
    if action == "add_to_case":
        note, anonymous = str(typed("note") or ""), flag(typed("anonymous"))
        return "amend", case_id, {"note": note, "anonymous": anonymous}
    if action == "feedback":
        return action, str(data.get("answer_id", "")), {"helpful": flag(data.get("helpful"))}
    if action in STEPS:
        return action, case_id, {"reply": str(typed("reply", "reply") or "")}  # on the card
    if action == "approve":
        return action, case_id, {key: str(typed(key) or "") for key in APPROVE_FIELDS}
    if action == "announce_confirm":
        return "announce", "", {key: str(data.get(key, "")) for key in ("since", "version")}
    if action == "announce_cancel":
        return "cancel", "", {}
    return action, "", {}


class CardActions:
    """Handles the buttons of PolicyBot's cards.

    Args:
        assistant: the core.
        notifier: sends privately, and redraws case cards.
        deliver_soon: delivers what a press queued (a case card, a reply) at once.
    """

    def __init__(
        self, assistant: Assistant, notifier: TeamsNotifier, deliver_soon: Callable[[], None]
    ) -> None:
        self._assistant = assistant
        self._notifier = notifier
        self._deliver_soon = deliver_soon

    async def handle(self, context: TurnContext, data: Mapping[str, Any]) -> None:
        """Run the action a card button submitted, and show its outcome."""
        name, value, inputs = translate(data)
        by = question_from(context.activity, "", self._assistant.settings)
        # The core uses the database: keep its blocking calls off the event loop.
        pressed = await asyncio.to_thread(
            lambda: self._assistant.press(name, value, by=by, inputs=inputs)
        )
        if pressed.deliver:
            self._deliver_soon()
        if pressed.escalated is not None:
            escalated = pressed.escalated
            receipt = render(messages.escalated(escalated.case, again=escalated.again))
            await self._receipt(context, receipt, by, privately=pressed.private)
            return
        if pressed.redraw and pressed.case is not None:
            await self._redraw(context, pressed, on_card=name in STEPS)  # a case card's steps
        if pressed.say:
            await send(context, pressed.say)

    async def _receipt(
        self, context: TurnContext, receipt: Activity, asker: Question, *, privately: bool
    ) -> None:
        """The receipt names the case and repeats the asker's note: pressed where others see
        (a channel, a group chat), it goes to the asker's personal chat, and the channel sees
        only a neutral line."""
        if not privately:
            await send(context, receipt)
            return
        await self._notifier.tell_privately(
            context,
            asker.conversation,
            receipt,
            said=phrases.PASSED_ON_PRIVATELY,
            failed=phrases.PASSED_ON_UNREACHABLE,
        )

    async def _redraw(self, context: TurnContext, pressed: Pressed, *, on_card: bool) -> None:
        """Redraw the case's card: the one the button was on, or else the last one posted,
        or else a new one in the team's channel (:meth:`TeamsNotifier.refresh_card`).

        The case has changed already: a card that cannot be redrawn is no reason to
        apologise for the whole action (and invite the person to do it again); a reviewer
        is told their card is out of date.
        """
        case = pressed.case
        assert case is not None
        card_id, conversation = context.activity.reply_to_id, context.activity.conversation
        pressed_on = on_card and card_id and conversation
        where = CardPlace(conversation.id, card_id) if pressed_on else None
        try:
            await asyncio.to_thread(self._notifier.refresh_card, case, where)
        except Exception:
            log.warning("teams: could not redraw the card of %s", case.id, exc_info=True)
            if on_card:
                await send(context, phrases.card_not_updated(case))
