"""The admins' weekly digest: who may see it, what it says, and the full report's link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cases.casework import Casework
from bot.config import Settings
from bot.errors import NotAuthorizedError
from bot.ops.digest import NOT_AN_ADMIN, Reports
from tests.bot.conftest import ADMIN, HR, STAFF, FakeClock
from tests.bot.test_insights import by_topic
from tests.bot.test_insights_html import seed

URL = "https://policybot.example.gov.uk"


def reports(work: Casework, clock: FakeClock, *, public_url: str = URL) -> Reports:
    settings = Settings(admins=frozenset({ADMIN}), public_url=public_url)
    return Reports(settings, work.db, by_topic, work.state, clock=clock)


def test_only_admins_see_the_digest(work: Casework, clock: FakeClock) -> None:
    for someone in (STAFF, HR):  # a reviewer is not an admin
        with pytest.raises(NotAuthorizedError, match=NOT_AN_ADMIN):
            reports(work, clock).digest(someone)


def test_the_digest_sums_up_the_last_week(work: Casework, clock: FakeClock) -> None:
    seed(work, clock)  # two weeks: the digest reads only the last seven days
    digest = reports(work, clock).digest(ADMIN)
    assert clock.now - digest.since == timedelta(days=7)
    assert digest.lines == (
        "2 questions, 50% answered from the documents.",
        "1 theme not answered; the largest, 1 question: “best pizza near the office? ask "
        "[e-mail]”.",
        "1 answer rated unhelpful.",
        "Communications team: 1 case, first reply median –, 1 past the SLA.",
        "HR Advisory team: 5 cases, first reply median 3 h, 0 past the SLA.",
    )
    assert STAFF not in " ".join(digest.lines)


def test_the_link_opens_the_full_report_until_it_expires(work: Casework, clock: FakeClock) -> None:
    seed(work, clock)
    desk = reports(work, clock)
    first = desk.digest(ADMIN)
    assert first.link.startswith(f"{URL}/insights/") and first.link in first.full_report
    token = first.link.rsplit("/", 1)[1]
    assert len(token) >= 32
    assert desk.digest(ADMIN).link == first.link  # the same link while it is fresh
    page = desk.page(token)
    assert page is not None and 'id="chart-weeks"' in page
    assert desk.page("not-a-token") is None and desk.page("") is None

    clock.advance(days=6, hours=1)  # less than a day left: a new link, the old one still works
    renewed = desk.digest(ADMIN).link
    assert renewed != first.link and desk.page(token) is not None
    clock.advance(days=1)
    assert desk.page(token) is None  # expired
    assert desk.page(renewed.rsplit("/", 1)[1]) is not None


def test_without_a_public_url_the_digest_says_how_to_write_the_report(
    work: Casework, clock: FakeClock
) -> None:
    digest = reports(work, clock, public_url="").digest(ADMIN)
    assert digest.link == ""
    assert "policybot insights --since 2026-02-23 --format html" in digest.full_report
    assert digest.lines == ("0 questions, 0% answered from the documents.", "No cases.")
    assert reports(work, clock, public_url="").page("anything") is None
