"""Feedback: helpful or not, comments, one vote per rater per answer."""

from __future__ import annotations

import pytest

from bot.cases.casework import Casework
from bot.models import Answer, Question
from tests.bot.conftest import FakeClock


def test_votes_are_counted_and_comments_listed_newest_first(
    work: Casework, clock: FakeClock
) -> None:
    question = Question("Can I use TikTok at work?", user_id="slack:U1")
    work.audit.record(question, Answer(question.text, True, "No.", id="a1"))
    work.feedback.record("a1", True, rater="slack:U1")
    clock.advance(minutes=1)
    work.feedback.record("a1", False, comment="Too short", rater="slack:U2")
    clock.advance(minutes=1)
    work.feedback.record("a2", False, comment="Wrong clause")

    summary = work.feedback.summary()
    assert (summary.helpful, summary.not_helpful) == (1, 2)
    assert [c.comment for c in summary.comments] == ["Wrong clause", "Too short"]
    assert summary.comments[1].question == "Can I use TikTok at work?"
    data = summary.to_json()
    assert data["total"] == 3 and data["comments"][0]["answer_id"] == "a2"
    assert "slack:U2" not in str(data)


def test_the_same_rater_voting_again_changes_their_vote(work: Casework) -> None:
    work.feedback.record("a1", True, rater="slack:U1")
    work.feedback.record("a1", False, comment="On reflection, no", rater="slack:U1")
    work.feedback.record("a1", False, rater="slack:U1")  # a double click keeps the comment
    summary = work.feedback.summary()
    assert (summary.helpful, summary.not_helpful) == (0, 1)
    assert [c.comment for c in summary.comments] == ["On reflection, no"]


def test_comments_are_capped_and_an_answer_id_is_required(work: Casework) -> None:
    work.feedback.record("a1", False, comment="x" * 5000)
    assert len(work.feedback.summary().comments[0].comment) == 2000
    with pytest.raises(ValueError, match="answer"):
        work.feedback.record(" ", True)
