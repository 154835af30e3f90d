"""Cases in Slack: the team's case card, SLA reminders and App Home, drawn by the one renderer
(:mod:`adapters.slack.blocks`) from the core's messages (:mod:`bot.messages`).

Case buttons carry the case id as their value: ``case_claim``, ``case_reply``,
``case_resolve`` and ``case_reopen``, in a block ``card:<case>`` on the case's own card and
``list:<case>`` elsewhere, and ``case_approve`` in ``approve:<case>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.slack.blocks import CARD, Rendered, blocks, render
from bot import messages
from bot.case_views import CaseView
from bot.models import Team

APPROVE = "case_approve"
"""The card's "Save as approved answer" button (see ``approving``)."""
__all__ = ["APPROVE", "CARD", "case_card", "home_view", "reminder"]


def case_card(case: CaseView, *, remark: str = "") -> Rendered:
    """The message in the team's channel, with the notifier's ``remark`` (why the card was
    posted again) above its buttons."""
    return render(messages.case_card(case, remark=remark))


def reminder(team: Team, cases: Sequence[CaseView], sla_hours: float) -> Rendered:
    return render(messages.reminder(team, cases, sla_hours))


def home_view(own: Sequence[CaseView], teams: Mapping[Team, Sequence[CaseView]]) -> dict[str, Any]:
    """App Home: how to ask and one's own cases; for reviewers, their teams' live cases."""
    home = messages.home(own, teams, platform="slack")
    return {"type": "home", "blocks": blocks(home.parts, limit=100)}
