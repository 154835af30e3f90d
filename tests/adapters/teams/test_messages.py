"""Staff in Teams: questions in the personal chat and by @-mention, the answer card, the
welcome card and the typing indicator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.adapters.teams.conftest import ASKER, BOT, GENERAL, PERSONAL, Teams, card_text

pytestmark = pytest.mark.asyncio


def escalation_data(action: dict[str, Any]) -> dict[str, Any]:
    """The data an "Ask the team" button finally submits (from inside its form)."""
    assert action["type"] == "Action.ShowCard"
    form = action["card"]
    assert form["version"] == "1.5"
    [submit] = form["actions"]
    assert submit["type"] == "Action.Submit"
    return submit["data"]


async def test_a_personal_question_gets_an_answer_card_with_its_clauses(teams: Teams) -> None:
    await teams.say("Can I use Facebook at lunchtime?")

    [reply] = teams.connector.sent()
    assert reply.conversation == PERSONAL
    assert reply.activity_id.startswith("msg-")  # a reply to the question
    card = reply.card
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    shown = card_text(card)
    assert "lunch break" in card["body"][0]["text"]
    assert "Social Media Guidance for Staff · 2.1 Can I check Facebook" in shown
    assert "The clauses this rests on" in shown
    # Text alternatives: what a screen reader reads, and a plain summary.
    assert "lunch break" in card["speak"] and "Social Media Guidance for Staff 2.1" in card["speak"]
    assert "lunch break" in reply.body["summary"] and "**" not in reply.body["summary"]

    answer_id = card["actions"][0]["data"]["answer_id"]
    question, answer = teams.assistant.answered(answer_id)
    assert question.user_id == "teams:aad-asker" and question.platform == "teams"
    assert question.display_name == "Jo Bloggs"
    # Answered with no suggestion: feedback first, then both teams.
    helpful, not_helpful, ask_hr, ask_comms = card["actions"]
    assert helpful["data"] == {"action": "feedback", "helpful": True, "answer_id": answer.id}
    assert not_helpful["data"] == {"action": "feedback", "helpful": False, "answer_id": answer.id}
    assert escalation_data(ask_hr) == {"action": "escalate", "team": "hr", "answer_id": answer.id}
    assert escalation_data(ask_comms) == {
        "action": "escalate",
        "team": "communications",
        "answer_id": answer.id,
    }


async def test_a_typing_indicator_shows_before_the_answer(teams: Teams) -> None:
    await teams.say("How long are quarantined emails kept?")
    kinds = [call.type for call in teams.connector.calls]
    assert kinds.index("typing") < kinds.index("message")
    assert teams.connector.sent("typing")[0].conversation == PERSONAL


async def test_the_suggested_team_comes_first(teams: Teams) -> None:
    await teams.say("A journalist has just phoned me about a Council decision. What should I do?")
    card = teams.connector.sent()[0].card
    first, helpful, not_helpful, other = card["actions"]
    assert first["title"] == "Ask the Communications team (suggested)"
    assert escalation_data(first)["team"] == "communications"
    assert [helpful["data"]["helpful"], not_helpful["data"]["helpful"]] == [True, False]
    assert escalation_data(other)["team"] == "hr"
    assert "the Communications team can help" in card_text(card)


async def test_an_unanswerable_question_offers_a_person_first(teams: Teams) -> None:
    await teams.say("What is the capital of France?")
    card = teams.connector.sent()[0].card
    assert "couldn't find this in the policy documents" in card["body"][0]["text"]
    assert [a["type"] for a in card["actions"]] == [
        "Action.ShowCard",
        "Action.ShowCard",
        "Action.Submit",
        "Action.Submit",
    ]


@pytest.mark.parametrize("kind", ["channel", "groupChat"])
async def test_a_mention_in_a_channel_or_group_chat_is_answered_without_the_mention(
    teams: Teams, kind: str
) -> None:
    thread = f"{GENERAL};messageid=1700000000000"
    await teams.say(
        "How long are quarantined emails kept?", conversation=thread, kind=kind, mention=True
    )
    [reply] = teams.connector.sent()
    assert reply.conversation == thread
    answer_id = reply.card["actions"][0]["data"]["answer_id"]
    question, _ = teams.assistant.answered(answer_id)
    assert question.text == "How long are quarantined emails kept?"


async def test_channel_talk_that_does_not_mention_the_bot_is_left_alone(teams: Teams) -> None:
    await teams.say("Lunch at one?", conversation=GENERAL, kind="channel")
    assert teams.connector.calls == []


async def test_installing_the_bot_sends_the_welcome_card(teams: Teams) -> None:
    install = teams.activity(type="conversationUpdate", membersAdded=[BOT])
    assert (await teams.post(install)).status == 201
    [welcome] = teams.connector.sent()
    assert welcome.conversation == PERSONAL
    assert "Hello, I'm PolicyBot" in card_text(welcome.card)
    assert welcome.card["speak"] and welcome.body["summary"]

    someone_joins = teams.activity(type="conversationUpdate", membersAdded=[ASKER])
    assert (await teams.post(someone_joins)).status == 201
    assert len(teams.connector.sent()) == 1  # only the bot's own arrival is greeted


async def test_help_shows_the_welcome_card_again(teams: Teams) -> None:
    await teams.say("help")
    assert "Hello, I'm PolicyBot" in card_text(teams.connector.sent()[0].card)


async def test_a_bare_mention_gets_the_welcome_as_on_slack(teams: Teams) -> None:
    await teams.say("", conversation=GENERAL, kind="channel", mention=True)
    [welcome] = teams.connector.sent()
    assert "Hello, I'm PolicyBot" in card_text(welcome.card)
    assert "Helpful" not in json.dumps(welcome.card)  # nothing was answered
