"""Policy-change announcements in Slack: ``/policy announce`` -> the admin's preview ->
Confirm -> the post in the announcement channel and a DM to the staff it concerns; refusals,
Cancel, ``/policy mute``."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.engine import PolicyBot
from bot.knowledge.changes import ChangeSet, ClauseChange, append_log, difference
from bot.storage.db import utcnow
from tests.adapters.slack.conftest import ADMIN, OTHER, STAFF, Slack, posted_message, start_slack
from tests.adapters.slack.fake_slack import Call, FakeSlack
from tests.adapters.slack.test_escalation import elements

ANNOUNCE_CHANNEL = "CNEWS"


@pytest.fixture
async def slack(fake_slack: FakeSlack, real_bot: PolicyBot, tmp_path: Path) -> AsyncIterator[Slack]:
    handle, client = await start_slack(
        fake_slack, real_bot, tmp_path / "data", SLACK_ANNOUNCE_CHANNEL=ANNOUNCE_CHANNEL
    )
    yield handle
    await fake_slack.settle(0.2)
    await client.close()
    handle.assistant.close()


async def asked_then_changed(slack: Slack) -> ClauseChange:
    """Staff asks in a channel; then a reload changes the first clause the answer cited."""
    await slack.mention("Can I use Facebook at lunchtime?")
    (answer,) = await slack.fake.wait_for("chat.postMessage")
    (entry,) = slack.assistant.work.audit.entries()
    cited = entry.citations[0]
    change = ClauseChange(
        "changed",
        cited["source"],
        "The Policy",
        cited["section"],
        cited["title"],
        old="Staff may use social media at lunch.",
        new="Staff may use social media at lunch and after work.",
    )
    index_dir = slack.assistant.work.settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    at = (utcnow() + timedelta(minutes=1)).isoformat()
    append_log(index_dir, ChangeSet("v2", "v1", at, (change,)))
    return change


def words(call: Call) -> str:
    """What a message says: its blocks' texts, as Slack shows them (entities unescaped)."""
    texts = [b["text"]["text"] for b in call.blocks if b.get("type") == "section"]
    return html.unescape("\n".join(texts))


async def preview(slack: Slack, user: str = ADMIN, text: str = "announce") -> Call:
    before = len(slack.fake.of("response_url"))
    status, _, _ = await slack.command(text, user=user)
    assert status == 200
    return (await slack.fake.wait_for("response_url", count=before + 1))[-1]


async def test_an_admin_previews_confirms_and_staff_hear_once(slack: Slack) -> None:
    change = await asked_then_changed(slack)

    shown = await preview(slack)
    assert shown.args["response_type"] == "ephemeral"
    said = words(shown)
    assert f"{change.section} ({change.title}): {difference(change.old, change.new)}" in said
    assert "1 direct message to 1 person" in shown.text
    buttons = elements(shown)
    assert [b["action_id"] for b in buttons] == ["announce_confirm", "announce_cancel"]

    status, _, _ = await slack.press(
        "announce_confirm", buttons[0]["value"], user=ADMIN, message=posted_message(shown)
    )
    assert status == 200
    done = (await slack.fake.wait_for("response_url", count=2))[-1]
    assert done.args["replace_original"] is True
    assert "Announced the changes up to knowledge version v2" in done.text

    (post,) = await slack.fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == ANNOUNCE_CHANNEL
    )
    assert "Policy update" in words(post)
    assert difference(change.old, change.new) in words(post)
    (opened,) = await slack.fake.wait_for("conversations.open")
    assert opened.args["users"] == STAFF
    (dm,) = await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DSTAFF")
    body = json.dumps(dm.blocks, ensure_ascii=False)
    assert ">Staff may use social media at lunch and after work." in body  # quoted
    assert "Facebook" not in body  # the question is not repeated

    # Pressing Confirm again (a double click, a resend) announces nothing twice.
    await slack.press(
        "announce_confirm", buttons[0]["value"], user=ADMIN, message=posted_message(shown)
    )
    again = (await slack.fake.wait_for("response_url", count=3))[-1]
    assert "announced already" in again.text
    await slack.fake.settle()
    assert len(slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == "DSTAFF")) == 1
    assert (
        len(slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == ANNOUNCE_CHANNEL)) == 1
    )


async def test_staff_may_not_announce_and_cancel_announces_nothing(slack: Slack) -> None:
    await asked_then_changed(slack)
    refused = await preview(slack, user=OTHER)
    assert "Sorry, only PolicyBot admins can announce policy changes." in refused.text
    assert not elements(refused)

    shown = await preview(slack)
    cancel = elements(shown)[1]
    await slack.press("announce_cancel", cancel["value"], user=ADMIN, message=posted_message(shown))
    cancelled = (await slack.fake.wait_for("response_url", count=3))[-1]
    assert words(cancelled) == "Nothing was announced." and cancelled.args["replace_original"]
    assert slack.assistant.work.announcements.last_announced() is None


async def test_a_person_mutes_and_unmutes_policy_change_messages(slack: Slack) -> None:
    await asked_then_changed(slack)
    muted = await preview(slack, user=STAFF, text="mute")
    assert "I won't message you about policy changes any more" in muted.text
    assert "`/policy unmute`" in muted.text
    shown = await preview(slack)
    assert "0 direct messages to 0 people" in shown.text and "1 muted" in shown.text
    unmuted = await preview(slack, user=STAFF, text="unmute")
    assert "I'll message you when a policy clause you asked about changes" in unmuted.text
    # A question that merely starts with the word is still a question.
    question = await preview(slack, user=STAFF, text="mute notifications: may I at work?")
    assert "message you" not in question.text and elements(question)  # an answer's buttons
