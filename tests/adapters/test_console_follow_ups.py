"""Follow-up questions in the console chat: one chat is one conversation."""

from __future__ import annotations

from bot.assistant import Assistant
from tests.adapters.test_console import Transcript, assistant

__all__ = ["assistant"]  # the fixture, shared with the console's own tests


def test_a_follow_up_is_answered_with_the_earlier_question(assistant: Assistant) -> None:
    chat = Transcript(assistant)
    chat.say("How long are quarantined emails kept?")
    said = chat.say("and who can release them?")
    assert "release a message yourself" in said
    first, second = assistant.work.audit.entries()
    assert second.context_answer_id == first.answer_id


def test_each_chat_is_its_own_conversation(assistant: Assistant) -> None:
    Transcript(assistant).say("How long are quarantined emails kept?")
    said = Transcript(assistant).say("and who can release them?")
    assert "couldn't find this" in said
