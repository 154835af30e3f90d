"""The admins' weekly digest of :mod:`bot.ops.insights`, and links to the full report.

Admins see the digest in Slack's App Home and, on request (``insights``), in Teams. It is a
few lines: the week's questions and how many were answered, the largest theme the documents
did not answer, answers rated unhelpful, and each team's cases. The full report (charts and
all, :mod:`bot.ops.insights_html`) is **linked**: with ``POLICYBOT_PUBLIC_URL`` set (the address
staff's browsers reach ``policybot serve`` at), each admin gets a link
``<url>/insights/<token>`` that any instance serves for :data:`LINK_DAYS` days, drawn afresh
from the database when opened. The token is random (192 bits) and kept in the platform state
every instance shares; it is the only key to the page, so it is given to admins only, in
their App Home or their personal chat. Without a public URL the digest says how to write the
report with the command line instead.

Whether someone is an admin is decided here, in the core, against ``POLICYBOT_ADMINS``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from bot.errors import NotAuthorizedError
from bot.ops.insights import Embed, Insights, gather
from bot.ops.insights_html import render, team_name
from bot.platform_state import PlatformState
from bot.storage.db import Clock, Database, utcnow

DIGEST_DAYS = 7
LINK_DAYS = 7
#: A link with less than this left is replaced by a new one.
LINK_RENEW = timedelta(days=1)
#: Where links are kept in the platform state (the core's own, not a chat platform's).
STATE = "policybot"
LINK = "report-link"
LINK_OF = "report-link-of"
NOT_AN_ADMIN = "Sorry, only PolicyBot admins can see the insights digest."


@dataclass(frozen=True)
class Digest:
    """What an admin reads: a few lines, and where the full report is.

    Attributes:
        since: the start of the week summarised.
        lines: the digest, a sentence each (plain text).
        link: the full report's address, or "" when no public URL is configured.
    """

    since: datetime
    lines: tuple[str, ...]
    link: str = ""

    @property
    def title(self) -> str:
        """The digest's heading, on every platform."""
        return f"Insights: the last {DIGEST_DAYS} days"

    @property
    def since_line(self) -> str:
        return f"Since {self.since:%d %b %Y}"

    @property
    def link_label(self) -> str:
        """The link's words (a button, or a link in text); see :attr:`link_note`."""
        return "Open the full report, with charts"

    @property
    def link_note(self) -> str:
        """How long the link works."""
        return f"The full report's link works for {LINK_DAYS} days."

    @property
    def full_report(self) -> str:
        """A sentence saying where the full report is."""
        if self.link:
            return f"Full report, with charts (the link works for {LINK_DAYS} days): {self.link}"
        return (
            "Full report, with charts: on the server, "
            f"`policybot insights --since {self.since:%Y-%m-%d} --format html > insights.html` "
            "(set POLICYBOT_PUBLIC_URL for a link here)."
        )


def summary(report: Insights) -> tuple[str, ...]:
    """The digest's lines for ``report``."""
    share = report.answered / report.questions if report.questions else 0.0
    lines = [f"{_n(report.questions, 'question')}, {share:.0%} answered from the documents."]
    if report.declined_themes:
        top = report.declined_themes[0]
        lines.append(
            f"{_n(len(report.declined_themes), 'theme')} not answered; the largest, "
            f"{_n(top.count, 'question')}: “{top.examples[0]}”."
        )
    if report.unhelpful:
        lines.append(f"{_n(len(report.unhelpful), 'answer')} rated unhelpful.")
    for team, figures in report.teams.items():
        reply = figures.first_reply_median
        lines.append(
            f"{team_name(team)}: {_n(figures.cases, 'case')}, "
            f"first reply median {'–' if reply is None else f'{reply:g} h'}, "
            f"{figures.sla_breaches} past the SLA."
        )
    if not report.teams:
        lines.append("No cases.")
    return tuple(lines)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Reports:
    """Digests for admins and the pages their links open.

    Args:
        settings: the admins, and ``POLICYBOT_PUBLIC_URL``.
        db: the database the report is drawn from.
        embed: the sentence embedder (themes are grouped by meaning).
        state: where links are kept, shared by every instance.
        clock: now (tests move it).
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        embed: Embed,
        state: PlatformState,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._settings = settings
        self._db = db
        self._embed = embed
        self._state = state
        self._clock = clock

    def digest(self, by: str) -> Digest:
        """The last :data:`DIGEST_DAYS` days for admin ``by``, with a link to the full report.

        Raises:
            NotAuthorizedError: ``by`` is not an admin.
        """
        if by not in self._settings.admins:
            raise NotAuthorizedError(NOT_AN_ADMIN)
        since = self._clock() - timedelta(days=DIGEST_DAYS)
        report = gather(self._db, self._embed, since)
        base = self._settings.public_url
        link = f"{base}/insights/{self._link_for(by)}" if base else ""
        return Digest(since, summary(report), link)

    def page(self, token: str) -> str | None:
        """The full report's HTML for a link's ``token``; None for an unknown or old one."""
        expires = self._state.recall(STATE, LINK, token) if token else None
        if expires is None or datetime.fromisoformat(expires) <= self._clock():
            return None
        since = self._clock() - timedelta(days=DIGEST_DAYS)
        return render(gather(self._db, self._embed, since))

    def _link_for(self, by: str) -> str:
        """``by``'s current link token, or a new one when theirs is missing or nearly old."""
        now = self._clock()
        token = self._state.recall(STATE, LINK_OF, by)
        expires = self._state.recall(STATE, LINK, token) if token else None
        if token and expires and datetime.fromisoformat(expires) - now > LINK_RENEW:
            return token
        token = secrets.token_urlsafe(24)
        until = now + timedelta(days=LINK_DAYS)
        self._state.remember(STATE, LINK, token, until.isoformat())
        self._state.remember(STATE, LINK_OF, by, token)
        return token
