"""Follow-ups through the Assistant: the window in the database for every instance, and the
audit naming the earlier answer that gave the context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.engine import PolicyBot
from bot.models import Question
from tests.bot.conftest import Backend

THREAD = "CGENERAL/1712.0001"


def asked(text: str, thread: str = THREAD, user: str = "slack:U1") -> Question:
    return Question(text=text, user_id=user, platform="slack", thread=thread)


@pytest.fixture
def instances(real_bot: PolicyBot, database: Backend) -> Iterator[tuple[Assistant, Assistant]]:
    """Two instances on one database (the engine is shared: it holds no conversation)."""
    one, two = Casework.open(database.settings()), Casework.open(database.settings())
    yield Assistant(real_bot, one), Assistant(real_bot, two)
    one.close()
    two.close()


def test_a_follow_up_on_another_instance_is_understood_and_audited(
    instances: tuple[Assistant, Assistant],
) -> None:
    first, second = instances
    opening = first.ask(asked("Can I use Facebook at lunchtime?"))
    follow_up = second.ask(asked("what about on my own phone?", user="slack:U2"))

    assert follow_up.answered and follow_up.context_id == opening.id
    rows = {row.answer_id: row for row in first.work.audit.entries()}
    assert rows[opening.id].context_answer_id is None
    assert rows[follow_up.id].context_answer_id == opening.id
    assert rows[follow_up.id].question == "what about on my own phone?"  # as asked
    assert rows[follow_up.id].to_json()["context_answer_id"] == opening.id


def test_another_conversation_or_a_question_alone_has_no_context(
    instances: tuple[Assistant, Assistant],
) -> None:
    first, second = instances
    first.ask(asked("Can I use Facebook at lunchtime?"))
    elsewhere = second.ask(asked("what about on my own phone?", thread="CGENERAL/2.0002"))
    alone = second.ask(asked("what about on my own phone?", thread=""))
    assert not elsewhere.context_id and not alone.context_id
    assert not elsewhere.answered and not alone.answered


def test_a_chain_of_follow_ups_keeps_the_first_subject(
    instances: tuple[Assistant, Assistant],
) -> None:
    first, second = instances
    first.ask(asked("How long are quarantined emails kept?"))
    release = second.ask(asked("and who can release them?"))
    again = first.ask(asked("and can I do it myself?"))
    assert release.context_id and again.context_id == release.id
    assert "quarantined emails" in again.searched


def test_follow_ups_can_be_switched_off(real_bot: PolicyBot, database: Backend) -> None:
    work = Casework.open(database.settings())
    try:  # the same index, with POLICYBOT_CONVERSATION_MINUTES=0
        bot = PolicyBot(replace(real_bot.settings, conversation_minutes=0))
        assistant = Assistant(bot, work)
        assistant.ask(asked("Can I use Facebook at lunchtime?"))
        assert not assistant.ask(asked("what about on my own phone?")).context_id
    finally:
        work.close()


def test_thanks_between_does_not_hide_the_question(
    instances: tuple[Assistant, Assistant],
) -> None:
    first, second = instances
    opening = first.ask(asked("How long are quarantined emails kept?"))
    first.ask(asked("ok thanks"))
    assert second.ask(asked("and who can release them?")).context_id == opening.id
