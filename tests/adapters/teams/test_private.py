"""A personal situation told in a Teams channel or group chat is answered in the asker's
personal chat (opened through the connector); the channel gets only a neutral note."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import phrases
from tests.adapters.teams.conftest import ASKER, GENERAL, PERSONAL, TENANT, Teams, card_text

pytestmark = pytest.mark.asyncio

SITUATION = "A journalist has just phoned me about a Council decision. What should I do?"
THREAD = f"{GENERAL};messageid=1700000000000"


@pytest.mark.parametrize("kind", ["channel", "groupChat"])
async def test_a_situation_told_in_public_is_answered_in_a_personal_chat(
    teams: Teams, kind: str
) -> None:
    await teams.say(SITUATION, conversation=THREAD, kind=kind, mention=True)

    # The bot opened a one-to-one chat with the asker, in their tenant...
    [created] = teams.connector.created
    assert [m["id"] for m in created["members"]] == [ASKER["id"]]
    assert created["isGroup"] is False and created["channelData"]["tenant"]["id"] == TENANT
    private, note = teams.connector.sent()
    # ...and sent the answer there, with the suggested team's offer first...
    assert private.conversation.startswith("a:personal-") and private.conversation != PERSONAL
    card = private.card
    assert "the Communications team can help" in card_text(card)
    assert card["actions"][0]["title"] == "Ask the Communications team (suggested)"
    # ...while the channel reads only the neutral note.
    assert note.conversation == THREAD
    assert note.text == phrases.REPLIED_PRIVATELY and not note.body.get("attachments")
    assert "journalist" not in note.text.lower()


async def test_a_situation_in_the_personal_chat_is_answered_there(teams: Teams) -> None:
    await teams.say(SITUATION)
    [reply] = teams.connector.sent()
    assert reply.conversation == PERSONAL and "Communications team" in card_text(reply.card)
    assert teams.connector.created == []


async def test_a_rule_question_in_a_channel_is_answered_in_the_channel(teams: Teams) -> None:
    await teams.say(
        "How long are quarantined emails kept?", conversation=THREAD, kind="channel", mention=True
    )
    [reply] = teams.connector.sent()
    assert reply.conversation == THREAD and reply.body.get("attachments")
    assert teams.connector.created == []


async def test_when_the_personal_chat_fails_the_channel_hears_only_that(teams: Teams) -> None:
    teams.connector.fail_next("message", 403)  # the private card is refused
    await teams.say(SITUATION, conversation=THREAD, kind="channel", mention=True)
    [note] = teams.connector.sent()
    assert note.conversation == THREAD and note.text == phrases.PRIVATE_UNREACHABLE
    [refused] = [c for c in teams.connector.attempts() if c.status == 403]
    assert refused.conversation.startswith("a:personal-")


async def test_admins_can_turn_private_answers_off(teams: Teams) -> None:
    engine = teams.assistant.engine
    engine.settings = replace(engine.settings, private_situations=False)
    try:
        await teams.say(SITUATION, conversation=THREAD, kind="channel", mention=True)
    finally:
        engine.settings = replace(engine.settings, private_situations=True)
    [reply] = teams.connector.sent()
    assert reply.conversation == THREAD and "Communications team" in card_text(reply.card)
    assert teams.connector.created == []
