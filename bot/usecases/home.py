"""A person's home (Slack's App Home): their own cases, their teams' live cases if they
review, and the weekly insights digest if they are an admin.

What a home shows is decided here, once: a home still opens when the case database is
unavailable (it then lists no cases and still explains how to ask), and when the digest
cannot be drawn now (everything else is shown).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.case_views import CaseView
from bot.errors import PolicyBotError
from bot.models import Team
from bot.ops.digest import Digest
from bot.usecases.admin import Admin
from bot.usecases.core import Core
from bot.usecases.reviewing import Reviewing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Home:
    """What a person's home lists (drawn by :func:`bot.messages.home`).

    Attributes:
        own: the cases they opened, newest first.
        teams: for each team they review (every team for an admin), its live cases.
        digest: the admins' insights digest; None for anyone else, or when it cannot be
            drawn now.
    """

    own: list[CaseView] = field(default_factory=list)
    teams: dict[Team, list[CaseView]] = field(default_factory=dict)
    digest: Digest | None = None


class Homes:
    """People's homes (see the module docstring).

    Args:
        core: the shared parts.
        reviewing: "my cases" and "my team's cases".
        admin: the insights digest.
    """

    def __init__(self, core: Core, reviewing: Reviewing, admin: Admin) -> None:
        self._core = core
        self._reviewing = reviewing
        self._admin = admin

    def home(self, person: str) -> Home:
        """See :meth:`bot.assistant.Assistant.home`."""
        try:
            own, teams = self._reviewing.my_cases(person), self._reviewing.team_cases(person)
        except PolicyBotError:  # no case database: the home still explains how to ask
            own, teams = [], {}
        return Home(own, teams, self._digest(person))

    def _digest(self, person: str) -> Digest | None:
        if person not in self._core.settings.admins:
            return None
        try:
            return self._admin.reports.digest(person)
        except PolicyBotError as exc:
            log.info("no insights digest in the home: %s", exc)
            return None
