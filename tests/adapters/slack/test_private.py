"""A personal situation told in a Slack channel is answered by direct message; the thread
gets only a neutral note. Direct messages, and admins who turn it off, are unaffected."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot import phrases
from tests.adapters.slack.conftest import COMMS, STAFF, Slack, posted_message
from tests.adapters.slack.fake_slack import Call
from tests.adapters.slack.test_escalation import flush_outbox

SITUATION = "A journalist rang me about a post I made."
RULE = "Can I use Facebook at lunchtime?"


def button_ids(call: Call) -> list[str]:
    return [e["action_id"] for b in call.blocks if b["type"] == "actions" for e in b["elements"]]


async def test_a_situation_told_in_a_channel_is_answered_by_direct_message(slack: Slack) -> None:
    ts = await slack.mention(SITUATION, channel="CGENERAL")
    answer, note = await slack.fake.wait_for("chat.postMessage", count=2)
    (opened,) = slack.fake.of("conversations.open")
    assert opened.args["users"] == STAFF
    # The answer, with the offer of the team it suggests first, is in the asker's DM...
    assert answer.args["channel"] == "DSTAFF" and "thread_ts" not in answer.args
    assert "Communications team can help" in answer.text
    assert button_ids(answer)[0] == "escalate_communications"
    # ...and the thread gets the neutral note, nothing of the answer or the situation.
    assert (note.args["channel"], note.args["thread_ts"]) == ("CGENERAL", ts)
    assert note.args["text"] == phrases.REPLIED_PRIVATELY
    assert "journalist" not in note.text.lower() and "communications" not in note.text.lower()
    assert button_ids(note) == []
    assert slack.fake.of("chat.postEphemeral") == []

    # Asking the team from the DM opens a case that is answered in the DM, not the thread.
    answer_id = next(
        e["value"]
        for b in answer.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "escalate_communications"
    )
    await slack.press(
        "escalate_communications", answer_id, message=posted_message(answer), channel="DSTAFF"
    )
    (receipt,) = await slack.fake.wait_for("response_url")
    case_id = receipt.text.split("as case ")[1].split(".")[0]
    await slack.close(case_id, user=STAFF)  # the asker keeps their name: the card goes out
    slack.assistant.act(case_id, "reply", by=f"slack:{COMMS}", text="Call me back on 4321.")
    await asyncio.to_thread(flush_outbox, slack)
    replies = slack.fake.of("chat.postMessage", lambda c: "Call me back on 4321" in c.text)
    assert [c.args["channel"] for c in replies] == ["DSTAFF"]  # never the public thread


async def test_a_rule_question_in_a_channel_is_still_answered_in_its_thread(slack: Slack) -> None:
    ts = await slack.mention(RULE, channel="CGENERAL")
    (reply,) = await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle()
    assert (reply.args["channel"], reply.args["thread_ts"]) == ("CGENERAL", ts)
    assert "lunch break" in reply.text
    assert slack.fake.of("conversations.open") == []


async def test_a_situation_in_a_direct_message_is_answered_there_as_ever(slack: Slack) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "DSTAFF",
        "user": STAFF,
        "text": SITUATION,
        "ts": "1.000001",
    }
    await slack.event(event)
    (reply,) = await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle()
    assert reply.args["channel"] == "DSTAFF" and "Communications team can help" in reply.text
    assert len(slack.fake.of("chat.postMessage")) == 1  # no note anywhere


async def test_without_a_dm_the_answer_is_ephemeral_in_the_thread(slack: Slack) -> None:
    slack.fake.errors["conversations.open"] = "missing_scope"
    ts = await slack.mention(SITUATION, channel="CGENERAL")
    (note,) = await slack.fake.wait_for("chat.postMessage")
    (private,) = slack.fake.of("chat.postEphemeral")
    assert (private.args["channel"], private.args["user"]) == ("CGENERAL", STAFF)
    assert private.args["thread_ts"] == ts and "Communications team can help" in private.text
    assert note.args["text"] == phrases.REPLIED_PRIVATELY


async def test_when_nothing_private_can_be_sent_the_thread_hears_only_that(slack: Slack) -> None:
    slack.fake.errors["conversations.open"] = "missing_scope"
    slack.fake.errors["chat.postEphemeral"] = "user_not_in_channel"
    await slack.mention(SITUATION, channel="CGENERAL")
    (note,) = await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle()
    assert note.args["text"] == phrases.PRIVATE_UNREACHABLE
    assert "journalist" not in note.text.lower()


async def test_admins_can_turn_private_answers_off(slack: Slack) -> None:
    slack.engine.settings = replace(slack.engine.settings, private_situations=False)
    ts = await slack.mention(SITUATION, channel="CGENERAL")
    (reply,) = await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle()
    assert (reply.args["channel"], reply.args["thread_ts"]) == ("CGENERAL", ts)
    assert "Communications team can help" in reply.text
    assert slack.fake.of("conversations.open") == []
