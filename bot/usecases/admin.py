"""What admins and operators ask of the running bot: reload the documents, the insights
digest, the database's health, and the summary logged at start."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.errors import EscalationError
from bot.ops.digest import Reports
from bot.reload.index import Progress
from bot.reload.lease import reload_lease
from bot.reload.report import ReloadReport
from bot.storage.db import Database
from bot.usecases.approving import Approving
from bot.usecases.core import Core

log = logging.getLogger(__name__)


class Admin:
    """Reload, reports, health (see the module docstring).

    Args:
        core: the shared parts.
        approving: approved answers, checked again when a reload changes clauses.
    """

    def __init__(self, core: Core, approving: Approving) -> None:
        self._core = core
        self._approving = approving

    @property
    def reports(self) -> Reports:
        """See :attr:`bot.assistant.Assistant.reports`."""
        core = self._core
        work, index = core.work, core.engine.index
        return Reports(
            core.settings, work.db, lambda texts: index.embedder.embed(texts), core.state
        )

    def reload(
        self,
        requested_by: str | None = None,
        *,
        knowledge_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> ReloadReport:
        """See :meth:`bot.assistant.Assistant.reload`."""
        core = self._core
        if requested_by is not None and requested_by not in core.settings.admins:
            # refused by the engine, in its words, before any lease is taken
            return core.engine.reload_documents(requested_by)
        try:
            db: Database | None = core.work.db
        except EscalationError:  # the database is down: the index's own lock only
            db = None
        with reload_lease(db):
            report = core.engine.reload_documents(
                requested_by, knowledge_dir=knowledge_dir, progress=progress
            )
        core.metrics.reloaded(report.rebuilt, report.elapsed_s)
        if report.changes:  # approved answers resting on a changed clause wait for review
            try:
                core.work.approved.suspend_changed(self._approving.clauses())
            except Exception:  # the next answer given retries it (bot.approved.match)
                log.exception("approved answers could not be checked after the reload")
        return report

    def check_database(self) -> None:
        self._core.work.db.ping()

    def summary(self) -> list[str]:
        """What this process runs with, a line each, for the log at start (no secrets)."""
        core = self._core
        settings = core.settings
        slack, teams = settings.platforms.count("slack"), settings.teams
        return [
            "Slack: "
            + (
                ("on, Socket Mode" if settings.slack.socket_mode else "on, events at /slack/events")
                if slack
                else "off (no SLACK_BOT_TOKEN)"
            ),
            "Teams: "
            + (
                "local development mode: no authentication, loopback only"
                if teams.unauthenticated
                else "on, activities at /api/messages"
                if teams.enabled
                else "off (no MICROSOFT_APP_ID)"
            ),
            "Database: "
            + (core.casework.db.dialect if core.casework else "unavailable, retried on use"),
            "Vectors: "
            + (
                f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
                if settings.chroma_host
                else "embedded Chroma in the data directory"
            ),
            f"Model: {core.engine.model_description}",
            f"Knowledge version: {core.engine.knowledge_version or 'none yet (run a reload)'}",
            f"People: {len(settings.admins)} admins, {len(settings.hr_reviewers)} HR and "
            f"{len(settings.comms_reviewers)} Communications reviewers",
        ]
