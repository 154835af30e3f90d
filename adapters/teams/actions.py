"""Card buttons: escalate, add to a case and feedback (staff); claim, reply, resolve, reopen
and approve (reviewers).

Each button's ``data`` names its ``action`` (see :mod:`adapters.teams.cards` and
:mod:`adapters.teams.case_cards`) and becomes one call on the core, which decides what is
allowed and words its refusals; :func:`adapters.teams.app.on_turn_error` shows them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.teams.approving import APPROVE, approve
from adapters.teams.cards import ANONYMOUS_INPUT, NOTE_INPUT, escalated_message, flag
from adapters.teams.case_cards import REPLY_INPUT
from adapters.teams.identity import is_personal, person_id, question_from
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.sending import send, update
from bot import phrases
from bot.assistant import Assistant
from bot.case_views import CaseView
from bot.models import Question

log = logging.getLogger(__name__)

T = TypeVar("T")
CASE_STEPS = frozenset({"claim", "reply", "resolve", "reopen"})


class CardActions:
    """Handles the buttons of PolicyBot's cards.

    Args:
        assistant: the core.
        notifier: remembers case cards and people's names.
        deliver_soon: delivers what a step queued (a case card, a reply) at once.
    """

    def __init__(
        self, assistant: Assistant, notifier: TeamsNotifier, deliver_soon: Callable[[], None]
    ) -> None:
        self._assistant = assistant
        self._notifier = notifier
        self._deliver_soon = deliver_soon

    async def handle(self, context: TurnContext, data: Mapping[str, Any]) -> None:
        """Run the action a card button submitted."""
        action = str(data.get("action", ""))
        if action == "escalate":
            await self._escalate(context, data)
        elif action == "add_to_case":
            await self._add_to_case(context, data)
        elif action == "feedback":
            await self._feedback(context, data)
        elif action in CASE_STEPS:
            await self._case_step(context, action, data)
        elif action == APPROVE:
            await approve(self._assistant, context, data, by=self._person(context), run=self._run)
        else:
            log.warning("teams: unknown card action %r", action[:40])
            await send(context, phrases.UNKNOWN_BUTTON)

    async def _run(self, work: Callable[[], T]) -> T:
        # The core uses the database: keep its blocking calls off the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, work)

    def _person(self, context: TurnContext) -> str:
        return person_id(context.activity.from_property, self._assistant.settings)

    async def _escalate(self, context: TurnContext, data: Mapping[str, Any]) -> None:
        """Open the case (the core opens one however often the button is pressed) and send
        the receipt again each time."""
        team = str(data.get("team", ""))
        asker = question_from(context.activity, "", self._assistant.settings)
        escalate = functools.partial(
            self._assistant.escalate,
            str(data.get("answer_id", "")),
            team,
            asker=asker,
            note=str(data.get(f"note_{team}") or ""),
            anonymous=flag(data.get(f"anonymous_{team}", False)),
        )
        done = await self._run(escalate)
        if not done.again:
            self._deliver_soon()  # the team's case card
        await self._receipt(context, escalated_message(done.case, again=done.again), asker)

    async def _receipt(self, context: TurnContext, receipt: Activity, asker: Question) -> None:
        """The receipt names the case and repeats the asker's note: in a channel or group
        chat it goes to the asker's personal chat, and the channel sees only a neutral line."""
        if is_personal(context.activity):
            await send(context, receipt)
            return
        try:
            await self._notifier.send_privately(asker.conversation, receipt)
        except Exception:
            log.warning("teams: could not send an escalation receipt privately", exc_info=True)
            await send(context, phrases.PASSED_ON_UNREACHABLE)
            return
        await send(context, phrases.PASSED_ON_PRIVATELY)

    async def _add_to_case(self, context: TurnContext, data: Mapping[str, Any]) -> None:
        """The asker adds a note, or withholds their name, after the case was opened."""
        anonymous = flag(data.get(ANONYMOUS_INPUT))
        add = functools.partial(
            self._assistant.add_to_case,
            str(data.get("case_id", "")),
            by=self._person(context),
            note=str(data.get(NOTE_INPUT) or ""),
            anonymous=anonymous,
        )
        case = await self._run(add)
        self._deliver_soon()
        await self._redraw_quietly(self._notifier.update_case_card(case), case)
        await send(context, phrases.added_to_case(case, withheld_now=anonymous))

    async def _feedback(self, context: TurnContext, data: Mapping[str, Any]) -> None:
        answer_id, helpful = str(data.get("answer_id", "")), flag(data.get("helpful"))
        rater = self._person(context)
        await self._run(lambda: self._assistant.feedback(answer_id, helpful, rater=rater))
        await send(context, phrases.feedback_thanks(helpful))

    async def _case_step(self, context: TurnContext, action: str, data: Mapping[str, Any]) -> None:
        step = functools.partial(
            self._assistant.act,
            str(data.get("case_id", "")),
            action,
            by=self._person(context),
            text=str(data.get(REPLY_INPUT) or ""),
        )
        case = await self._run(step)
        self._deliver_soon()  # a reply for the asker, a reopened case for the team
        if not await self._redraw_quietly(self._redraw(context, case), case):
            await send(context, phrases.card_not_updated(case))

    async def _redraw_quietly(self, redraw: Awaitable[Any], case: CaseView) -> bool:
        """The case has changed already: a card that cannot be redrawn is no reason to
        apologise for the whole action (and invite the person to do it again)."""
        try:
            await redraw
        except Exception:
            log.warning("teams: could not redraw the card of %s", case.id, exc_info=True)
            return False
        return True

    async def _redraw(self, context: TurnContext, case: CaseView) -> None:
        """Update the case card the button was on (or the last one posted for the case)."""
        card_id = context.activity.reply_to_id
        if not card_id:
            if not await self._notifier.update_case_card(case):
                await send(context, await self._notifier.case_message(case))
            return
        conversation = context.activity.conversation.id
        await asyncio.to_thread(self._notifier.remember_card, case.id, conversation, card_id)
        activity = await self._notifier.case_message(case)
        activity.id = card_id
        await update(context, activity)
