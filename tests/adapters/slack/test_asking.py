"""Staff ask in Slack: mentions, DMs, follow-ups, ``/policy``; what is ignored."""

from __future__ import annotations

import json

from bot.reload.lease import ALREADY_RUNNING, ReloadLease
from tests.adapters.slack.conftest import ADMIN, STAFF, Slack
from tests.adapters.slack.fake_slack import BOT_TOKEN, BOT_USER, Call


def buttons(call: Call) -> list[tuple[str, str | None, str]]:
    """(action_id, style, value) of the answer's feedback and escalation buttons."""
    (block,) = [b for b in call.blocks if b.get("block_id") == "answer_actions"]
    return [(e["action_id"], e.get("style"), e["value"]) for e in block["elements"]]


async def test_a_mention_is_answered_in_its_thread_with_clauses_and_buttons(slack: Slack) -> None:
    ts = await slack.mention("Can I use Facebook at lunchtime?", channel="CGENERAL")
    (reply,) = await slack.fake.wait_for("chat.postMessage")
    assert reply.args["channel"] == "CGENERAL" and reply.args["thread_ts"] == ts
    assert reply.args["_token"] == BOT_TOKEN
    assert "lunch break" in reply.args["text"]
    sections = [b["text"]["text"] for b in reply.blocks if b["type"] == "section"]
    assert "lunch break" in sections[0]
    # each clause: document title, section number and title, the quote
    assert any(
        "*Social Media Guidance for Staff · 2.1 Can I check" in s and "\n>Yes" in s
        for s in sections
    )
    answer_id = buttons(reply)[0][2]
    assert buttons(reply) == [
        ("feedback_up", None, answer_id),
        ("feedback_down", None, answer_id),
        ("escalate_hr", None, answer_id),
        ("escalate_communications", None, answer_id),
    ]
    question, _ = slack.assistant.answered(answer_id)
    assert question.user_id == f"slack:{STAFF}" and question.platform == "slack"
    assert question.text == "Can I use Facebook at lunchtime?"  # the mention is not the question
    ref = json.loads(question.conversation.removeprefix("slack:"))
    assert ref == {"user": STAFF, "channel": "CGENERAL", "thread_ts": ts}


async def test_the_suggested_team_comes_first_and_primary(slack: Slack) -> None:
    await slack.mention("A journalist rang me about a post I made.")
    (reply,) = await slack.fake.wait_for("chat.postMessage")
    ids_styles = [(action, style) for action, style, _ in buttons(reply)]
    assert ids_styles == [  # as in Teams: the suggested team, then feedback, then the other
        ("escalate_communications", "primary"),
        ("feedback_up", None),
        ("feedback_down", None),
        ("escalate_hr", None),
    ]
    assert "Communications team can help" in reply.text


async def test_the_eyes_reaction_is_there_while_working(slack: Slack) -> None:
    ts = await slack.mention("Can I post about my job on LinkedIn?")
    await slack.fake.wait_for("reactions.remove")
    order = [c.method for c in slack.fake.calls if c.method != "auth.test"]
    assert order == ["reactions.add", "chat.postMessage", "reactions.remove"]
    for call in slack.fake.of("reactions.add") + slack.fake.of("reactions.remove"):
        assert call.args["name"] == "eyes" and call.args["timestamp"] == ts


async def test_a_direct_message_is_answered_in_the_dm(slack: Slack) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "DSTAFF",
        "user": STAFF,
        "text": "what is the policy on libel?",
        "ts": "1.000001",
    }
    assert (await slack.event(event))[0] == 200
    (reply,) = await slack.fake.wait_for("chat.postMessage")
    assert reply.args["channel"] == "DSTAFF" and "thread_ts" not in reply.args
    assert "libel" in reply.text.lower()


async def test_follow_ups_in_an_answered_thread_are_answered_there(slack: Slack) -> None:
    ts = await slack.mention("Can I use Facebook at lunchtime?")
    await slack.fake.wait_for("chat.postMessage")
    follow_up = {
        "type": "message",
        "channel_type": "channel",
        "channel": "CGENERAL",
        "user": STAFF,
        "text": "and what about YouTube?",
        "ts": "1.000002",
        "thread_ts": ts,
    }
    await slack.event(follow_up)
    second = (await slack.fake.wait_for("chat.postMessage", count=2))[1]
    assert second.args["thread_ts"] == ts and "YouTube" in second.text
    # Colleagues chatting in the thread get no "I couldn't find this" from the bot...
    await slack.event({**follow_up, "text": "thanks, that's great!", "ts": "1.000005"})
    # ...and other threads and plain channel chatter are not the bot's business.
    await slack.event({**follow_up, "thread_ts": "9.999", "ts": "1.000003"})
    await slack.event({**follow_up, "ts": "1.000004", "thread_ts": None})
    await slack.fake.settle()
    assert len(slack.fake.of("chat.postMessage")) == 2


async def test_bot_messages_edits_and_joins_are_ignored(slack: Slack) -> None:
    base = {
        "type": "message",
        "channel_type": "im",
        "channel": "DSTAFF",
        "user": STAFF,
        "text": "Can I use Facebook at lunchtime?",
        "ts": "1.1",
    }
    ignored = [
        {**base, "bot_id": "BOTHER", "subtype": "bot_message"},
        {**base, "user": BOT_USER},
        {**base, "subtype": "message_changed", "message": {"text": "edited"}},
        {**base, "subtype": "message_deleted"},
        {**base, "channel_type": "channel", "channel": "CGENERAL", "subtype": "channel_join"},
    ]
    for event in ignored:
        assert (await slack.event(event))[0] == 200
    await slack.fake.settle()
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []


async def test_policy_answers_privately_with_a_share_button(slack: Slack) -> None:
    status, _, body = await slack.command("Can I use Facebook at lunchtime?")
    assert status == 200 and body == ""
    (private,) = await slack.fake.wait_for("response_url")
    assert private.args["response_type"] == "ephemeral" and "lunch break" in private.text
    share = [
        e
        for b in private.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "share_answer"
    ]
    assert len(share) == 1
    question, _ = slack.assistant.answered(share[0]["value"])
    assert question.conversation == 'slack:{"user":"USTAFF"}'  # private: replies by DM only

    await slack.press(
        "share_answer",
        share[0]["value"],
        message={"blocks": private.blocks},
        container={
            "type": "message",
            "is_ephemeral": True,
            "channel_id": "CGENERAL",
            "message_ts": "1.1",
        },
    )
    _, shared, deleted = await slack.fake.wait_for("response_url", count=3)
    assert shared.args["response_type"] == "in_channel" and "lunch break" in shared.text
    assert f"<@{STAFF}> shared an answer" in shared.text
    assert not any(
        e["action_id"] == "share_answer"
        for b in shared.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    )
    assert deleted.args.get("delete_original") is True


async def test_empty_policy_shows_help(slack: Slack) -> None:
    for text in ("", "   ", "help"):
        await slack.command(text)
    calls = await slack.fake.wait_for("response_url", count=3)
    assert all(
        "Mention me in a channel" in c.text and c.args["response_type"] == "ephemeral"
        for c in calls
    )
    assert slack.fake.of("chat.postMessage") == []


async def test_policy_reload_is_for_admins(slack: Slack) -> None:
    await slack.command("reload", user=STAFF)
    (refused,) = await slack.fake.wait_for("response_url")
    assert refused.args["response_type"] == "ephemeral"
    assert "Only PolicyBot admins can reload the policy documents." in refused.text

    await slack.command("reload", user=ADMIN)
    done = (await slack.fake.wait_for("response_url", count=2, timeout=60))[1]
    assert done.args["response_type"] == "in_channel"
    assert f"reloaded by <@{ADMIN}>" in done.text and "knowledge version" in done.text


async def test_policy_reload_while_another_instance_reloads_is_refused_politely(
    slack: Slack,
) -> None:
    other = ReloadLease(slack.assistant.work.db)
    assert other.acquire()  # another instance on the database is reloading
    try:
        await slack.command("reload", user=ADMIN)
        (refused,) = await slack.fake.wait_for("response_url")
    finally:
        other.release()
    assert refused.args["response_type"] == "ephemeral"
    assert ALREADY_RUNNING in refused.text


async def test_an_answer_slack_throttles_is_posted_after_its_retry_after(slack: Slack) -> None:
    slack.fake.throttled["chat.postMessage"] = 1
    ts = await slack.mention("Can I use Facebook at lunchtime?")
    refused, posted = await slack.fake.wait_for("chat.postMessage", count=2)
    assert refused.result == {"ok": False, "error": "ratelimited"}
    assert posted.result["ok"] and posted.args["thread_ts"] == ts
    assert "lunch break" in posted.args["text"]
