"""Cases in Teams: the team's case card, SLA reminders and the reply the asker receives, drawn
by the one renderer (:mod:`adapters.teams.cards`) from the core's messages (:mod:`bot.messages`).

Case card buttons are the steps the core offers on the case and carry ``{"action": "claim" |
"reply" | "resolve" | "reopen", "case_id": ...}``; the reply text is the ``reply_text`` input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from botbuilder.schema import Activity

from adapters.teams.cards import Card, as_message, card_of, render
from bot import messages
from bot.case_views import CARD_REPLIES, CaseView
from bot.models import Team

REPLY_INPUT = "reply_text"
CARD_BUDGET = 24_000
"""The most characters a case card may take as JSON: Teams refuses a message over about
28 KB, and the activity around the card takes some too."""
_FITTINGS = ((2000, CARD_REPLIES), (1000, 3), (500, 2), (250, 1), (100, 1))
"""(characters of each text, latest replies shown), tried in turn until the card fits."""


def case_card(case: CaseView, names: Mapping[str, str], *, remark: str = "") -> Card:
    """The card for a case as it is now, with the steps the core offers (and ``remark``, if
    any). Long texts and old replies are cut until the card fits in a Teams message
    (:data:`CARD_BUDGET`)."""
    for limit, replies in _FITTINGS:
        message = messages.case_card(case, replies=replies, remark=remark)
        made = card_of(message, names, limit=limit)
        if len(json.dumps(made)) <= CARD_BUDGET:
            break
    return made


def case_message(case: CaseView, names: Mapping[str, str], *, remark: str = "") -> Activity:
    """The case card as a message."""
    return as_message(case_card(case, names, remark=remark), messages.case_card(case).summary)


def reminder_message(team: Team, cases: Sequence[CaseView], sla_hours: float) -> Activity:
    """An SLA reminder: the team's cases that nobody has claimed in time, without their
    steps (a Teams button redraws the card it is on, which here is the reminder)."""
    return render(messages.reminder(team, cases, sla_hours, steps=False), text=True)


def reply_message(case: CaseView, reply: str) -> Activity:
    """A reviewer's reply, as the asker receives it."""
    return render(messages.reply(case, reply), text=True)
