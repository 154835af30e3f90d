"""Escalations in Teams: the receipt, the case card in the team channel, reviewers' Claim,
Reply and Resolve, the reply relayed to the asker's personal chat, and refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.teams.sending import ATTEMPTS
from bot import phrases
from bot.engine import PolicyBot
from tests.adapters.teams.conftest import (
    ASKER,
    GENERAL,
    HR_CHANNEL,
    HR_REVIEWER,
    OUTSIDER,
    PERSONAL,
    TENANT,
    Teams,
    card_text,
    start_teams,
)
from tests.adapters.teams.fake_connector import Call

pytestmark = pytest.mark.asyncio

ABUSE = "I am being abused online by a member of the public because of my job"
JOURNALIST = "A journalist has just phoned me about a Council decision. What should I do?"
HR_THREAD = f"{HR_CHANNEL};messageid=1700000000001"


async def ask_and_escalate(
    teams: Teams, question: str, team: str, *, where: dict[str, Any] | None = None, **inputs: str
) -> Call:
    """Ask, press "Send to the team" on the answer's form, and return the receipt."""
    where = where or {}
    before = len(teams.connector.sent())
    await teams.say(question, **where)
    answer = teams.connector.sent()[before].card
    form = next(a for a in answer["actions"] if a["type"] == "Action.ShowCard" and team in str(a))
    data = form["card"]["actions"][0]["data"]
    assert data["action"] == "escalate" and data["team"] == team
    await teams.press({**data, **inputs}, **where)
    return teams.connector.sent()[-1]


async def posted_case_card(teams: Teams) -> Call:
    """Deliver the outbox and return the case card it posted to the HR channel."""
    result = await teams.flush()
    assert result.sent >= 1 and result.failed == 0
    return [c for c in teams.connector.sent() if c.conversation == HR_CHANNEL][-1]


def reviewer_press(action: str, card: Call, *, sender: dict[str, str] = HR_REVIEWER, **data: str):
    value = {"action": action, "case_id": "HR-0001", **data}
    where = {"conversation": HR_THREAD, "kind": "channel", "reply_to": card.response_id}
    return {"value": value, "sender": sender, **where}


async def test_escalating_opens_a_case_and_confirms_it_with_its_id(teams: Teams) -> None:
    receipt = await ask_and_escalate(
        teams, JOURNALIST, "communications", note_communications="They want a quote by 5pm"
    )
    shown = card_text(receipt.card)
    assert "Passed to the Communications team as case COM-0001." in shown
    assert "Their reply will come to you in a private message" in shown
    assert "COM-0001" in receipt.body["summary"]
    case = teams.assistant.work.cases.get("COM-0001")
    assert case.note == "They want a quote by 5pm"
    assert (case.asker, case.asker_name, case.platform) == ("teams:aad-asker", "Jo Bloggs", "teams")
    assert "journalist" in case.question and case.citations

    # Pressing again (a double click, or Teams resending) does not open a second case.
    suggested = teams.connector.sent()[0].card["actions"][0]
    await teams.press(suggested["card"]["actions"][0]["data"])
    assert len(teams.assistant.work.cases.list()) == 1
    again = card_text(teams.connector.sent()[-1].card)
    assert "Already passed to the Communications team as case COM-0001." in again


async def test_reviewers_claim_reply_and_resolve_and_the_asker_gets_the_reply(
    teams: Teams,
) -> None:
    await ask_and_escalate(teams, ABUSE, "hr")
    card = await posted_case_card(teams)
    assert card.activity_id == ""  # a new post in the channel, not a reply
    shown = card_text(card.card)
    assert "HR-0001 · HR Advisory team" in shown and "abused online" in shown
    assert "Asked by: Jo Bloggs" in shown and "Status: Open: waiting for a reviewer" in shown
    actions = card.card["actions"]
    assert [a["title"] for a in actions] == ["Claim", "Send reply"]
    assert [a["data"] for a in actions] == [
        {"action": "claim", "case_id": "HR-0001"},
        {"action": "reply", "case_id": "HR-0001"},
    ]
    assert any(item.get("id") == "reply_text" for item in card.card["body"])

    await teams.press(**reviewer_press("claim", card))
    [claimed] = teams.connector.updates()
    assert (claimed.conversation, claimed.activity_id) == (HR_THREAD, card.response_id)
    assert "Status: Claimed · Sam Patel" in card_text(claimed.card)
    assert [a["title"] for a in claimed.card["actions"]] == ["Send reply", "Resolve"]

    await teams.press(**reviewer_press("reply", card, reply_text="Please call us on 01234 567890."))
    answered = teams.connector.updates()[-1]
    assert "Status: Answered" in card_text(answered.card)
    assert "Reply from Sam Patel: Please call us on 01234 567890." in card_text(answered.card)
    assert teams.assistant.work.cases.get("HR-0001").status == "answered"

    await teams.flush()
    relayed = teams.connector.sent()[-1]
    assert (relayed.conversation, relayed.activity_id) == (PERSONAL, "")
    assert "Please call us on 01234 567890." in relayed.text and "HR-0001" in relayed.text
    assert relayed.body["recipient"]["id"] == ASKER["id"]

    await teams.press(**reviewer_press("resolve", card))
    resolved = teams.connector.updates()[-1]
    assert "Status: Resolved" in card_text(resolved.card)
    assert [a.get("data") for a in resolved.card["actions"]] == [
        {"action": "reopen", "case_id": "HR-0001"},
        None,  # "Save as approved answer", a form (tests/adapters/teams/test_approving.py)
    ]
    assert not any(item.get("id") == "reply_text" for item in resolved.card["body"])
    assert teams.assistant.work.cases.get("HR-0001").status == "resolved"

    await teams.press(**reviewer_press("reopen", card))
    reopened = teams.connector.updates()[-1]
    assert "Status: Reopened" in card_text(reopened.card)
    assert [a["title"] for a in reopened.card["actions"]] == [
        "Claim",
        "Send reply",
        "Save as approved answer",
    ]
    assert teams.assistant.work.cases.get("HR-0001").status == "reopened"


async def test_only_the_teams_reviewers_may_act_on_a_case(teams: Teams) -> None:
    await ask_and_escalate(teams, ABUSE, "hr")
    card = await posted_case_card(teams)
    await teams.press(**reviewer_press("claim", card, sender=OUTSIDER))
    refusal = teams.connector.sent()[-1]
    assert refusal.text == (
        "Sorry, only the HR Advisory team reviewers and PolicyBot admins can claim HR-0001. "
        "A PolicyBot admin adds reviewers to POLICYBOT_HR_REVIEWERS."
    )
    assert refusal.conversation == HR_THREAD
    assert teams.connector.updates() == []
    assert teams.assistant.work.cases.get("HR-0001").status == "open"


async def test_a_reply_to_a_channel_question_goes_to_a_private_chat(teams: Teams) -> None:
    where = {"conversation": f"{GENERAL};messageid=1", "kind": "channel", "mention": True}
    said = await ask_and_escalate(teams, ABUSE, "hr", where=where)
    assert said.conversation.startswith(GENERAL) and "private chat" in said.text
    receipt = teams.connector.sent()[-2]
    assert receipt.conversation.startswith("a:personal-") and "HR-0001" in card_text(receipt.card)
    card = await posted_case_card(teams)
    await teams.press(**reviewer_press("claim", card))
    await teams.press(**reviewer_press("reply", card, reply_text="We'll ring you today."))
    await teams.flush()

    [opened] = teams.connector.created
    assert opened["members"] == [{"id": ASKER["id"]}] and opened["isGroup"] is False
    assert opened["channelData"] == {"tenant": {"id": TENANT}}
    relayed = teams.connector.sent()[-1]
    assert relayed.conversation.startswith("a:personal-") and "ring you today" in relayed.text
    in_general = [c for c in teams.connector.sent() if c.conversation.startswith(GENERAL)]
    assert all("ring you today" not in c.text for c in in_general)


async def test_an_anonymous_case_card_names_nobody(teams: Teams) -> None:
    receipt = await ask_and_escalate(teams, ABUSE, "hr", anonymous_hr="true")
    assert "Your name is already withheld from the team." in card_text(receipt.card)
    card = await posted_case_card(teams)
    shown = str(card.body)
    assert "withheld at the asker's request" in card_text(card.card)  # as in Slack
    assert "Jo Bloggs" not in shown and "aad-asker" not in shown and "29:asker" not in shown
    await teams.press(**reviewer_press("claim", card))
    await teams.press(**reviewer_press("reply", card, reply_text="We can help."))
    await teams.flush()
    assert teams.connector.sent()[-1].conversation == PERSONAL


async def test_the_asker_can_add_a_note_and_withhold_their_name_afterwards(teams: Teams) -> None:
    receipt = await ask_and_escalate(teams, ABUSE, "hr")
    card = await posted_case_card(teams)
    assert "Jo Bloggs" in card_text(card.card)
    add = receipt.card["actions"][0]["data"]
    assert add == {"action": "add_to_case", "case_id": "HR-0001"}

    await teams.press({**add, "case_note": "It started last week."}, sender=OUTSIDER)
    assert teams.connector.sent()[-1].text == "Sorry, only the person who asked can add to HR-0001."

    await teams.press({**add, "case_note": "It started last week.", "case_anonymous": "true"})
    said = teams.connector.sent()[-1].text
    assert "no longer sees your name" in said and "may have seen it" in said
    redrawn = teams.connector.updates()[-1]
    assert (redrawn.conversation, redrawn.activity_id) == (HR_CHANNEL, card.response_id)
    assert "Jo Bloggs" not in str(redrawn.body) and "It started last week." in str(redrawn.body)


async def test_a_card_whose_place_is_unknown_is_posted_again_with_a_remark(teams: Teams) -> None:
    receipt = await ask_and_escalate(teams, ABUSE, "hr")
    first = await posted_case_card(teams)
    state = teams.assistant.state
    # The card's place may be written behind the post: wait until it is in the store.
    assert await asyncio.to_thread(state.settle, 10.0)
    assert state.store.get("teams", "card", "HR-0001") is not None
    state.store.delete("teams", "card", "HR-0001")  # as after a purge
    assert state.card_of("HR-0001", "teams") is None

    add = receipt.card["actions"][0]["data"]  # pressed in the asker's chat: no card at hand
    await teams.press({**add, "case_note": "It started last week."})
    cards = [c for c in teams.connector.sent() if c.conversation == HR_CHANNEL]
    assert [c.response_id for c in cards[:-1]] == [first.response_id]
    shown = card_text(cards[-1].card)
    assert phrases.CARD_OUT_OF_DATE in shown and "It started last week." in shown
    assert teams.connector.updates() == []
    said = teams.connector.sent()[-1]  # the asker is told, and sees no team card
    assert said.conversation == PERSONAL and "It started last week." not in str(said.body)


async def test_feedback_buttons_record_the_vote(teams: Teams) -> None:
    await teams.say("How many hashtags should I use in a post?")
    not_helpful = teams.connector.sent()[0].card["actions"][1]
    await teams.press(not_helpful["data"])
    assert teams.connector.sent()[-1].text == (
        "Thank you for the feedback. "
        "If you need a person, ask the HR Advisory team or the Communications team."
    )
    summary = teams.assistant.work.feedback.summary()
    assert (summary.helpful, summary.not_helpful) == (0, 1)


async def test_unknown_buttons_and_forgotten_answers_get_a_polite_reply(teams: Teams) -> None:
    await teams.press({"action": "launch-missiles"})
    assert "don't recognise that button" in teams.connector.sent()[-1].text
    await teams.press({"action": "escalate", "team": "hr", "answer_id": "deadbeef"})
    assert "no longer have that answer" in teams.connector.sent()[-1].text
    assert teams.assistant.work.cases.list() == []


async def test_an_answer_is_passed_on_by_its_asker_only(teams: Teams) -> None:
    await teams.say(ABUSE)
    answer = teams.connector.sent()[-1].card
    form = next(a for a in answer["actions"] if a["type"] == "Action.ShowCard" and "hr" in str(a))
    data = {**form["card"]["actions"][0]["data"], "note_hr": "Not my question"}
    # Someone else submitting the card action with the asker's answer id (in their own chat).
    await teams.press(data, sender=OUTSIDER, conversation="a:personal-outsider")
    assert teams.connector.sent()[-1].text == phrases.NOT_YOUR_ANSWER
    assert teams.assistant.work.cases.list() == []
    await teams.press(data)  # the asker may
    assert [c.asker for c in teams.assistant.work.cases.list()] == ["teams:aad-asker"]


async def test_reminders_go_to_the_team_channel(teams: Teams) -> None:
    await ask_and_escalate(teams, ABUSE, "hr")
    await posted_case_card(teams)
    case = teams.assistant.work.cases.get("HR-0001")
    await asyncio.get_running_loop().run_in_executor(None, teams.notifier.remind, "hr", [case])
    reminder = teams.connector.sent()[-1]
    assert reminder.conversation == HR_CHANNEL and "HR-0001" in reminder.text


async def test_a_card_that_cannot_be_redrawn_does_not_undo_the_action(teams: Teams) -> None:
    await ask_and_escalate(teams, ABUSE, "hr")
    card = await posted_case_card(teams)
    teams.connector.fail_next("message", 500, times=ATTEMPTS, retry_after="0")
    await teams.press(**reviewer_press("claim", card))
    assert teams.connector.updates() == []
    said = teams.connector.sent()[-1]
    assert said.text == "HR-0001 is now claimed, but I couldn't update its card."
    assert teams.assistant.work.cases.get("HR-0001").status == "claimed"


async def _until(found: Any, timeout: float = 10.0) -> Any:
    """Poll ``found()`` until it gives something (a background delivery has happened)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := found()):
        assert asyncio.get_running_loop().time() < deadline, "nothing was delivered"
        await asyncio.sleep(0.05)
    return result


async def test_cards_and_replies_go_out_at_once_without_waiting_for_the_timer(
    teams_engine: PolicyBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adapters.server as server

    monkeypatch.setattr(server, "TICK_SECONDS", 3600.0)  # only the step's own delivery
    async for running in start_teams(teams_engine, tmp_path, deliver_at_once=True):
        await _escalate_and_reply(running)


async def _escalate_and_reply(teams: Teams) -> None:
    await ask_and_escalate(teams, ABUSE, "hr")
    [card] = await _until(
        lambda: [c for c in teams.connector.sent() if c.conversation == HR_CHANNEL]
    )
    await teams.press(**reviewer_press("reply", card, reply_text="We'll call you today."))
    relayed = await _until(
        lambda: [c for c in teams.connector.sent() if "call you today" in c.text]
    )
    assert [c.conversation for c in relayed] == [PERSONAL]
    await _until(lambda: teams.assistant.case("HR-0001").pending_deliveries == 0)
