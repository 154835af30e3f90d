"""Reviewing: a case's steps, "my cases", "my team's cases", feedback, and delivering what
the outbox holds. Who may act is checked in :mod:`bot.cases`, against the configured ids."""

from __future__ import annotations

from bot.case_views import LIVE, CaseView
from bot.cases.outbox import FlushResult
from bot.errors import EscalationError
from bot.models import TEAMS, Team
from bot.ports import Notifier
from bot.usecases.core import Core


class Reviewing:
    """The case work of reviewers and askers (see the module docstring).

    Args:
        core: the shared parts.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def case(self, case_id: str) -> CaseView:
        return self._core.work.cases.get(case_id)

    def act(self, case_id: str, action: str, *, by: str, text: str = "") -> CaseView:
        """See :meth:`bot.assistant.Assistant.act`."""
        cases = self._core.work.cases
        if action == "claim":
            return cases.claim(case_id, by=by)
        if action == "reply":
            return cases.reply(case_id, text, by=by)
        if action == "resolve":
            return cases.resolve(case_id, by=by)
        if action == "reopen":
            return cases.reopen(case_id, by=by, reason=text)
        raise EscalationError(f"Sorry, I don't know how to {action[:40]!r} a case.")

    def may(self, case_id: str, action: str, *, by: str) -> CaseView:
        return self._core.work.cases.check(case_id, action, by=by)

    def my_cases(self, person: str) -> list[CaseView]:
        return list(self._core.work.cases.asked_by(person))

    def team_cases(self, person: str) -> dict[Team, list[CaseView]]:
        """See :meth:`bot.assistant.Assistant.team_cases`."""
        work = self._core.work
        cases, held = work.cases, work.outbox.held()
        found: dict[Team, list[CaseView]] = {}
        for team in TEAMS:
            if cases.may_act(person, team):
                live = [case for status in LIVE for case in cases.list(team, status)]
                shown = [case for case in live if case.id not in held]
                found[team] = sorted(shown, key=lambda case: case.created_at)
        return found

    def deliver(self, notifier: Notifier) -> FlushResult:
        return self._core.work.outbox.flush(notifier)

    def tick(self, notifier: Notifier) -> FlushResult:
        return self._core.work.tick(notifier)

    def feedback(
        self, answer_id: str, helpful: bool, *, comment: str = "", rater: str = ""
    ) -> None:
        self._core.work.feedback.record(answer_id, helpful, comment=comment, rater=rater)
