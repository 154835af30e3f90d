"""Follow-up questions in Slack threads and DMs, through the local fake Slack."""

from __future__ import annotations

from typing import Any

from tests.adapters.slack.conftest import STAFF, Slack
from tests.adapters.slack.test_asking import buttons


def answer_id(call: Any) -> str:
    return buttons(call)[0][2]


async def test_a_thread_reply_is_answered_with_the_threads_question(slack: Slack) -> None:
    ts = await slack.mention("How long are quarantined emails kept?")
    (first,) = await slack.fake.wait_for("chat.postMessage")
    reply = {
        "type": "message",
        "channel_type": "channel",
        "channel": "CGENERAL",
        "user": STAFF,
        "text": "and who can release them?",
        "ts": "1699999999.100001",
        "thread_ts": ts,
    }
    await slack.event(reply)
    second = (await slack.fake.wait_for("chat.postMessage", count=2))[1]
    assert second.args["thread_ts"] == ts
    assert "release a message yourself" in second.text
    (row,) = [r for r in slack.assistant.work.audit.entries() if r.answer_id == answer_id(second)]
    assert row.context_answer_id == answer_id(first)
    assert row.question == "and who can release them?"


async def test_a_new_thread_starts_a_new_conversation(slack: Slack) -> None:
    await slack.mention("How long are quarantined emails kept?")
    await slack.fake.wait_for("chat.postMessage")
    await slack.mention("and who can release them?")  # a new mention: a thread of its own
    second = (await slack.fake.wait_for("chat.postMessage", count=2))[1]
    assert "couldn't find this" in second.text
    rows = slack.assistant.work.audit.entries()
    assert [r.context_answer_id for r in rows] == [None, None]


async def test_a_direct_message_follows_up_the_last_one(slack: Slack) -> None:
    dm = {"type": "message", "channel_type": "im", "channel": "DSTAFF", "user": STAFF}
    await slack.event({**dm, "text": "Can I use Facebook at lunchtime?", "ts": "1.000001"})
    await slack.fake.wait_for("chat.postMessage")
    await slack.event({**dm, "text": "what about on my own phone?", "ts": "1.000002"})
    second = (await slack.fake.wait_for("chat.postMessage", count=2))[1]
    assert second.args["channel"] == "DSTAFF"
    assert "own phone" in second.text and "lunch" in second.text
