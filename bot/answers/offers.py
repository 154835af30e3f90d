"""What an answer offers its asker, and in which order: feedback, and a person.

Both chat platforms draw these offers as buttons, in this order, so that the same answer
looks the same in Slack and in Teams. The rule: nothing when nothing was asked; the team the
engine suggests comes first (the asker's situation calls for a person); when the documents do
not cover the question, asking a person comes before rating the answer; otherwise rating
comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import TEAMS, Answer, Team


@dataclass(frozen=True)
class Offer:
    """One button under an answer.

    Attributes:
        team: the team to pass the question to; None for a feedback button.
        helpful: for a feedback button, whether it says the answer helped.
        suggested: the engine suggests this team (drawn as the primary button).
    """

    team: Team | None = None
    helpful: bool = False
    suggested: bool = False


def answer_offers(answer: Answer) -> tuple[Offer, ...]:
    """The offers under ``answer``, in the order shown (see the module docstring)."""
    if not answer.question.strip() or not answer.id:
        return ()  # nothing was asked: nothing to rate or hand over
    suggested = answer.escalation.team if answer.escalation.suggested else None
    teams = sorted(TEAMS, key=lambda team: team != suggested)
    ask = [Offer(team=team, suggested=team == suggested) for team in teams]
    rate = [Offer(helpful=True), Offer(helpful=False)]
    if suggested:
        return (ask[0], *rate, *ask[1:])
    return (*ask, *rate) if not answer.answered else (*rate, *ask)
