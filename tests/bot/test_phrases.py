"""What PolicyBot says, worded once: the same sentences reach Slack and Teams."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import phrases
from bot.case_views import STATUSES, CaseView


def a_case(*, announcing: bool) -> CaseView:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return CaseView(
        id="HR-0001",
        team="hr",
        status="open",
        platform="slack",
        question="Q",
        asker=None,
        asker_name=None,
        anonymous=True,
        answer="",
        citations=(),
        note="",
        claimed_by=None,
        created_at=now,
        updated_at=now,
        events=(),
        announcing=announcing,
    )


def test_every_status_has_words() -> None:
    assert set(phrases.STATUS) == set(STATUSES)


def test_withholding_a_name_is_described_honestly() -> None:
    before_the_card = phrases.added_to_case(a_case(announcing=True), withheld_now=True)
    after_the_card = phrases.added_to_case(a_case(announcing=False), withheld_now=True)
    assert before_the_card.endswith("The HR Advisory team will not see your name.")
    assert "may have seen it before you chose this" in after_the_card
    assert phrases.added_to_case(a_case(announcing=False), withheld_now=False) == (
        "Thank you: HR-0001 is updated."
    )


def test_headings_and_thanks() -> None:
    assert phrases.reminder_heading("hr", 1, 8) == (
        "1 case for the HR Advisory team unclaimed for over 8 hours"
    )
    assert phrases.reminder_heading("communications", 3, 0.5).startswith("3 cases for the Comm")
    assert phrases.feedback_thanks(True) == "Thank you for the feedback."
    assert "ask the HR Advisory team" in phrases.feedback_thanks(False)
