"""Follow-up questions in a Teams conversation, through the fake connector."""

from __future__ import annotations

import pytest

from tests.adapters.teams.conftest import GENERAL, PERSONAL, Teams

pytestmark = pytest.mark.asyncio


async def test_a_follow_up_in_the_personal_chat_keeps_its_subject(teams: Teams) -> None:
    await teams.say("How long are quarantined emails kept?")
    await teams.say("and who can release them?")
    first, second = teams.connector.sent()
    assert second.conversation == PERSONAL
    assert "release a message yourself" in second.card["body"][0]["text"]
    entries = teams.assistant.work.audit.entries()
    assert [e.context_answer_id for e in entries] == [None, entries[0].answer_id]


async def test_another_conversation_does_not_share_the_context(teams: Teams) -> None:
    await teams.say("How long are quarantined emails kept?")
    await teams.say("and who can release them?", conversation=GENERAL, kind="channel", mention=True)
    entries = teams.assistant.work.audit.entries()
    assert [e.context_answer_id for e in entries] == [None, None]
    assert not entries[1].answered
