"""Which answers go to their asker alone: a personal situation told where others read it."""

from __future__ import annotations

import pytest

from bot.answers.privacy import answer_privately
from bot.models import Answer, Escalation, Question
from bot.ops.insights import masked

SITUATION = Answer(
    "…", True, "The HR Advisory team can help.", escalation=Escalation(True, "hr", "abuse")
)
RULE = Answer("…", True, "Yes, at lunchtime.", escalation=Escalation(False, "hr", ""))
UNSURE = Answer("…", False, "I couldn't find this.", escalation=Escalation(True, None, ""))


@pytest.mark.parametrize(
    ("public", "answer", "enabled", "private"),
    [
        (True, SITUATION, True, True),  # a situation told in a channel
        (False, SITUATION, True, False),  # in a DM or personal chat: private already
        (True, SITUATION, False, False),  # admins turned it off
        (True, RULE, True, False),  # a rule question stays in the channel
        (True, UNSURE, True, False),  # no team judged: nothing personal to hide
    ],
)
def test_an_answer_is_private_only_for_a_situation_told_in_public(
    public: bool, answer: Answer, enabled: bool, private: bool
) -> None:
    question = Question("…", user_id="slack:U1", platform="slack", public=public)
    marked = answer_privately(question, answer, enabled=enabled)
    assert marked.private is private
    assert marked.text == answer.text and marked.escalation == answer.escalation
    assert "private" not in marked.to_json()  # the ask --json contract is unchanged


def test_insights_mask_what_points_at_a_person() -> None:
    assert masked("ask jo.bloggs@council.gov.uk or call 01632 960 123") == (
        "ask [e-mail] or call [number]"
    )
    assert masked("<@U04ABCDEF> and @sam.patel posted it") == "[someone] and [someone] posted it"
    assert masked("clause 4.2 in 2026, a 5-minute break") == "clause 4.2 in 2026, a 5-minute break"
