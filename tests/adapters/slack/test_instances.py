"""Two ``serve`` instances on one database behave as one (issue 11): Slack's repeats of an
event to the other instance, follow-ups in a thread the other instance answered, and a case
card posted by one instance and updated by the other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine import PolicyBot
from tests.adapters.slack.conftest import HR, HR_CHANNEL, STAFF, Slack, start_slack
from tests.adapters.slack.fake_slack import BOT_USER, FakeSlack
from tests.adapters.slack.test_escalation import escalate

MENTION = {
    "type": "app_mention",
    "user": STAFF,
    "text": f"<@{BOT_USER}> Can I use Facebook at lunch?",
    "ts": "1.000001",
    "channel": "CGENERAL",
    "event_ts": "1.000001",
}


@pytest.fixture
async def pair(
    fake_slack: FakeSlack, real_bot: PolicyBot, tmp_path: Path
) -> AsyncIterator[tuple[Slack, Slack]]:
    """Instances A and B: two apps, each with its own Assistant, on one database."""
    started = [await start_slack(fake_slack, real_bot, tmp_path / "data") for _ in range(2)]
    yield started[0][0], started[1][0]
    await fake_slack.settle(0.2)
    for handle, client in started:
        await client.close()
        handle.assistant.close()


async def test_an_event_delivered_to_both_instances_is_answered_once(
    pair: tuple[Slack, Slack],
) -> None:
    a, b = pair
    body = a.event_body(MENTION, event_id="EvTWICE")
    assert (await a.post(body, "application/json"))[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await b.post(body, "application/json", headers=retry))[0] == 200
    assert (await b.post(body, "application/json"))[0] == 200  # a replay, no retry header
    await a.fake.wait_for("chat.postMessage")
    await a.fake.settle(0.5)
    assert len(a.fake.of("chat.postMessage")) == 1


async def test_a_follow_up_in_a_thread_is_answered_by_the_other_instance(
    pair: tuple[Slack, Slack],
) -> None:
    a, b = pair
    thread = await a.mention("Can I use Facebook at lunch?")
    await a.fake.wait_for("chat.postMessage")
    follow_up = {
        "type": "message",
        "channel_type": "channel",
        "user": STAFF,
        "text": "And can I post on LinkedIn about my job?",
        "ts": "1699999999.900001",
        "thread_ts": thread,
        "channel": "CGENERAL",
    }
    assert (await b.event(follow_up))[0] == 200
    answers = await b.fake.wait_for("chat.postMessage", count=2, timeout=20)
    assert answers[1].args["thread_ts"] == thread


async def test_a_card_posted_by_one_instance_is_updated_by_the_other(
    pair: tuple[Slack, Slack],
) -> None:
    a, b = pair
    _, card, _ = await escalate(a)  # A posts the card
    await b.press("case_claim", "HR-0001", user=HR)  # from App Home on B: no card at hand
    (updated,) = await b.fake.wait_for("chat.update")
    assert (updated.args["channel"], updated.args["ts"]) == (HR_CHANNEL, card.result["ts"])
    assert f"Claimed · <@{HR}>" in updated.text
    await b.fake.settle(0.3)
    cards = b.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL)
    assert len(cards) == 1  # updated in place, not posted again
