"""What PolicyBot says to people, worded once for every platform.

Adapters render these plain sentences as Block Kit, Adaptive Cards or terminal text (adding
only their own markup, emoji or mentions), so that staff and reviewers read the same words in
Slack and in Teams. Refusals are worded where they are raised (:mod:`bot.cases.rules`,
:mod:`bot.engine`); these are the rest: the apology, thanks, case statuses and headings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.models import TEAM_NAMES, Team

if TYPE_CHECKING:  # the case storage (SQLAlchemy) is not needed to word a sentence
    from bot.case_views import CaseView, Status

APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't finish that. "
    "Please try again in a minute."
)
"""The one reply to an unexpected failure: never its details."""
REACH_A_PERSON = (
    "If it can't wait, contact the HR Advisory team or the Communications team directly."
)
FEEDBACK_THANKS = "Thank you for the feedback."
ASK_A_PERSON = "If you need a person, ask the HR Advisory team or the Communications team."
REPLIED_PRIVATELY = "I've replied to you in a private message."
"""All a channel or group chat sees of an answer to someone's own situation: nothing of it."""
PRIVATE_UNREACHABLE = (
    "I'd like to answer you in a private message, but I couldn't open one. "
    "Please send me a direct message and ask again there."
)
"""What a channel sees when the private answer could not be sent: still nothing of it."""
NOT_YOUR_ANSWER = (
    "Sorry, only the person who asked that question can pass it to a team. "
    "Ask me yourself and you can pass your own answer on."
)
"""The refusal for someone pressing an *Ask* button on another person's answer."""

STATUS: dict[Status, str] = {
    "open": "Open: waiting for a reviewer",
    "claimed": "Claimed",
    "answered": "Answered",
    "resolved": "Resolved",
    "reopened": "Reopened: waiting for a reviewer",
}


def passed_on(case_id: str, team: Team, *, again: bool = False) -> str:
    """The asker's receipt for an escalation; ``again`` when they had passed it on before."""
    return f"{'Already passed' if again else 'Passed'} to the {TEAM_NAMES[team]} as case {case_id}."


def where_seen(on_a_platform: bool) -> str:
    """Where the team will see a new case: its chat channel, or only the command line."""
    if on_a_platform:
        return "The team sees it in their channel."
    return "No chat platform is set up, so the team sees it with `policybot escalations list`."


def feedback_thanks(helpful: bool) -> str:
    """The thanks for a vote; after "not helpful", the way to a person too."""
    return FEEDBACK_THANKS if helpful else f"{FEEDBACK_THANKS} {ASK_A_PERSON}"


def added_to_case(case: CaseView, *, withheld_now: bool) -> str:
    """The asker's confirmation after adding a note or withholding their name.

    Args:
        case: the case after the change.
        withheld_now: the asker has just asked for their name to be withheld.
    """
    said = f"Thank you: {case.id} is updated."
    team = TEAM_NAMES[case.team]
    if withheld_now and case.announcing:  # the card waited for this choice
        said += f" The {team} will not see your name."
    elif withheld_now:
        said += (
            f" The {team} no longer sees your name on it, but they may have seen it before "
            "you chose this."
        )
    return said


def reply_heading(case: CaseView) -> str:
    """How a reviewer's reply is introduced to the asker."""
    return f"The {TEAM_NAMES[case.team]} replied to your question (case {case.id})"


def reminder_heading(team: Team, count: int, sla_hours: float) -> str:
    """The first line of an SLA reminder to the team."""
    cases = "case" if count == 1 else "cases"
    return f"{count} {cases} for the {TEAM_NAMES[team]} unclaimed for over {sla_hours:g} hours"
