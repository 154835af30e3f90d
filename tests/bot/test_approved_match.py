"""Approved answers with the real model: a paraphrase gets the approved answer, a close but
different question does not (the measured threshold, see scripts/approved_threshold.py)."""

from __future__ import annotations

from pathlib import Path

from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.models import Question

APPROVED = "How much time can I spend on personal social media during working hours?"
HR = "slack:UHR"


def test_a_paraphrase_is_served_and_a_near_miss_is_not(real_bot: PolicyBot, tmp_path: Path) -> None:
    work = Casework.open(Settings(data_dir=tmp_path, hr_reviewers=frozenset({HR})))
    try:
        assistant = Assistant(real_bot, work)
        asker = Question(text=APPROVED, user_id="slack:U1", platform="slack")
        case = assistant.escalate_question(APPROVED, "hr", asker=asker).case
        assistant.act(case.id, "reply", by=HR, text="About 10 minutes a day, outside breaks.")
        assistant.approve(
            case.id, by=HR, clauses=("electronic-communication-and-social-media-policy:4.3",)
        )

        def ask(text: str) -> str | None:
            answer = assistant.ask(Question(text=text, user_id="slack:U2", platform="slack"))
            return answer.approved.id if answer.approved else None

        assert ask("What's the limit for personal social media use in work time?") == "A-0001"
        assert ask("how many minutes a day can i go on instagram during work") == "A-0001"
        assert ask("Can I use social media on my lunch break?") is None
        assert ask("Can I stream the football over the Council network at work?") is None
    finally:
        work.close()
