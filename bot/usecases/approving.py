"""Approved answers: saved from a case by its team's reviewers (or admins), listed, retired
and reinstated, each resting on the clauses as they stand in the live index."""

from __future__ import annotations

from bot.approved.clauses import LiveClauses, live_clauses
from bot.approved.views import ApprovedView
from bot.case_views import CaseView
from bot.usecases.core import Core


class Approving:
    """Approved answers (see the module docstring).

    Args:
        core: the shared parts.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def may_approve(self, case_id: str, *, by: str) -> CaseView:
        work = self._core.work
        case = work.cases.get(case_id)
        work.approved.check(case.team, by=by)
        return case

    def approve(
        self,
        case_id: str,
        *,
        by: str,
        text: str | None = None,
        question: str | None = None,
        clauses: tuple[str, ...] = (),
    ) -> ApprovedView:
        work = self._core.work
        case = work.cases.get(case_id)
        return work.approved.approve(
            case, by=by, live=self.clauses(), text=text, question=question, clauses=clauses
        )

    def approved_answers(
        self, team: str | None = None, status: str | None = None
    ) -> list[ApprovedView]:
        return self._core.work.approved.list(team, status)

    def approved_answer(self, answer_id: str) -> ApprovedView:
        return self._core.work.approved.get(answer_id)

    def retire(self, answer_id: str, *, by: str, reason: str = "") -> ApprovedView:
        return self._core.work.approved.retire(answer_id, by=by, reason=reason)

    def reinstate(self, answer_id: str, *, by: str, text: str | None = None) -> ApprovedView:
        approved = self._core.work.approved
        return approved.reinstate(answer_id, by=by, live=self.clauses(), text=text)

    def clauses(self) -> LiveClauses:
        """The clauses of the live index, as approved answers rest on them."""
        return live_clauses(self._core.engine.live_build())
