"""Escalating: hand a question to a team once per answer, team and asker; the asker's note
and choice of anonymity."""

from __future__ import annotations

from dataclasses import dataclass

from bot.case_views import CaseView
from bot.cases.service import CaseRequest
from bot.errors import EscalationError
from bot.models import TEAMS, Question, Team
from bot.usecases.asking import Asking
from bot.usecases.core import Core


@dataclass(frozen=True)
class Escalated:
    """What an escalation gave the asker.

    Attributes:
        case: the case their question is in.
        again: the case existed already (the button was pressed before): nothing new was
            opened or announced.
        await_choice: the asker is offered the choice of anonymity only now, and the team's
            card waits for it (the receipt says so, :func:`bot.messages.escalated`).
    """

    case: CaseView
    again: bool = False
    await_choice: bool = False

    @classmethod
    def opened(cls, case: CaseView, created: bool, *, await_choice: bool = False) -> Escalated:
        return cls(case, again=not created, await_choice=await_choice)


class Escalating:
    """Open cases from answers or failed questions, and the asker's changes to them.

    Args:
        core: the shared parts.
        asking: the answers given (an escalated answer is looked up there).
    """

    def __init__(self, core: Core, asking: Asking) -> None:
        self._core = core
        self._asking = asking

    def escalate(
        self,
        answer_id: str,
        team: str,
        *,
        asker: Question | None = None,
        note: str = "",
        anonymous: bool = False,
        await_choice: bool = False,
    ) -> Escalated:
        """See :meth:`bot.assistant.Assistant.escalate`."""
        question, answer = self._asking.answered(answer_id, asker)
        request = CaseRequest.from_answer(
            _team(team), asker or question, answer, note=note, anonymous=anonymous
        )
        return self._opened(request, await_choice)

    def escalate_question(
        self,
        text: str,
        team: str,
        *,
        asker: Question,
        note: str = "",
        anonymous: bool = False,
        await_choice: bool = False,
    ) -> Escalated:
        """See :meth:`bot.assistant.Assistant.escalate_question`."""
        request = CaseRequest(
            team=_team(team),
            asker=asker.user_id,
            question=text,
            display_name=asker.display_name,
            conversation=asker.conversation,
            note=note,
            anonymous=anonymous,
        )
        return self._opened(request, await_choice)

    def add_to_case(
        self, case_id: str, *, by: str, note: str = "", anonymous: bool = False
    ) -> CaseView:
        """See :meth:`bot.assistant.Assistant.add_to_case`."""
        return self._core.work.cases.asker_update(case_id, by=by, note=note, anonymous=anonymous)

    def keep_name(self, case_id: str, *, by: str) -> CaseView:
        """See :meth:`bot.assistant.Assistant.keep_name`."""
        return self._core.work.cases.keep_name(case_id, by=by)

    def _opened(self, request: CaseRequest, await_choice: bool) -> Escalated:
        case, created = self._core.work.cases.open_once(request, held=await_choice)
        if created:
            self._core.metrics.escalated(request.team)
        return Escalated.opened(case, created, await_choice=await_choice)


def _team(name: str) -> Team:
    if name not in TEAMS:
        raise EscalationError(f"Unknown team {name!r}: choose hr or communications.")
    return "hr" if name == "hr" else "communications"
