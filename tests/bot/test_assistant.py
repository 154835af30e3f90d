"""The Assistant: answers audited, escalations from memory or the audit log, honest records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import EscalationError
from bot.models import Question

QUESTION = "A journalist has just phoned me asking about a Council decision. What should I do?"


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Casework]:
    casework = Casework.open(Settings(data_dir=tmp_path))
    yield casework
    casework.close()


def asker(user: str) -> Question:
    return Question(text="", user_id=user, platform="slack", conversation=f"slack:{user}")


def test_an_answer_from_before_a_restart_can_still_be_escalated(
    real_bot: PolicyBot, work: Casework
) -> None:
    answer = Assistant(real_bot, work).ask(Question(text=QUESTION, user_id="slack:U1"))
    restarted = Assistant(real_bot, work)  # nothing in memory

    case = restarted.escalate(answer.id, "communications", asker=asker("slack:U1"))

    assert case.question == QUESTION
    assert case.answer == answer.text
    assert [c["section"] for c in case.citations] == [c.section for c in answer.citations]
    with pytest.raises(EscalationError, match="ask the question again"):
        Assistant(real_bot, work).escalate("no-such-answer", "hr", asker=asker("slack:U1"))


def test_escalating_a_colleagues_shared_answer_does_not_rewrite_who_asked(
    real_bot: PolicyBot, work: Casework
) -> None:
    assistant = Assistant(real_bot, work)
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))

    assistant.escalate(answer.id, "communications", asker=asker("slack:U2"))
    (row,) = work.audit.entries()
    assert row.asker_pseudonymised and row.asker not in {"slack:U1", "slack:U2"}

    assistant.escalate(answer.id, "communications", asker=asker("slack:U1"))
    (row,) = work.audit.entries()
    assert row.asker == "slack:U1" and row.case_id == "COM-0002"


def test_the_question_is_kept_as_asked(real_bot: PolicyBot, work: Casework) -> None:
    text = "Someone set up a fake profile to pretend to be me on Facebook, what do I do?"
    answer = Assistant(real_bot, work).ask(Question(text=text, user_id="slack:U1"))
    assert answer.question == text
    assert not answer.notices
