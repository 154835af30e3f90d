"""Reviewers work cases in Slack: Claim, Reply (modal), Resolve, refusals, and App Home."""

from __future__ import annotations

import asyncio
import json

from adapters.server import NOTIFIERS
from tests.adapters.slack.conftest import (
    ADMIN,
    COMMS,
    HR,
    HR_CHANNEL,
    OTHER,
    STAFF,
    Slack,
    posted_message,
)
from tests.adapters.slack.fake_slack import Call
from tests.adapters.slack.test_escalation import elements, escalate


async def press_on_card(slack: Slack, action: str, card: Call, user: str) -> None:
    message = posted_message(card)
    status, elapsed, _ = await slack.press(
        action, "HR-0001", user=user, message=message, channel=HR_CHANNEL
    )
    assert status == 200


async def test_a_reviewer_claims_replies_and_resolves_from_the_card(slack: Slack) -> None:
    # A rule question, answered in its channel thread (a personal situation would have been
    # answered by DM, and so would the reply: tests/adapters/slack/test_private.py).
    _, card, thread = await escalate(slack, question="Can I use Facebook at lunchtime?")
    await press_on_card(slack, "case_claim", card, HR)
    (claimed,) = await slack.fake.wait_for("chat.update")
    assert (claimed.args["channel"], claimed.args["ts"]) == (HR_CHANNEL, card.result["ts"])
    assert f"Claimed · <@{HR}>" in claimed.text
    assert slack.cases.get("HR-0001").claimed_by == f"slack:{HR}"

    await press_on_card(slack, "case_reply", card, HR)
    (opened,) = await slack.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "case_reply"
    assert json.loads(view["private_metadata"]) == {
        "case": "HR-0001",
        "channel": HR_CHANNEL,
        "ts": card.result["ts"],
    }
    reply = "Please keep screenshots, and call me on 4321 today."
    values = {"reply": {"text": {"type": "plain_text_input", "value": reply}}}
    status, _, body = await slack.submit(view, values, user=HR)
    assert (status, body) == (200, "")

    opened_dm = (await slack.fake.wait_for("conversations.open"))[0]
    assert opened_dm.args["users"] == STAFF
    dm, in_thread = await slack.fake.wait_for(
        "chat.postMessage",
        lambda c: "The HR Advisory team replied to your question" in c.text,
        count=2,
    )
    assert dm.args["channel"] == "DSTAFF" and "thread_ts" not in dm.args
    assert (in_thread.args["channel"], in_thread.args["thread_ts"]) == ("CGENERAL", thread)
    assert all("call me on 4321" in c.text for c in (dm, in_thread))
    answered = (await slack.fake.wait_for("chat.update", count=2))[1]
    assert "Answered" in answered.text and answered.args["ts"] == card.result["ts"]
    for _ in range(100):  # the outbox marks the reply delivered just after Slack took it
        case = slack.cases.get("HR-0001")
        if case.events[-1].action == "delivered":
            break
        await asyncio.sleep(0.05)
    assert case.status == "answered" and case.events[-1].action == "delivered"

    await press_on_card(slack, "case_resolve", card, HR)
    resolved = (await slack.fake.wait_for("chat.update", count=3))[2]
    assert "Resolved" in resolved.text
    assert slack.cases.get("HR-0001").status == "resolved"


async def test_someone_else_pressing_claim_is_refused_privately(slack: Slack) -> None:
    _, card, _ = await escalate(slack)
    await slack.fake.wait_for("response_url")  # the asker's confirmation
    for person in (OTHER, COMMS, STAFF):  # COMMS reviews the other team only
        await press_on_card(slack, "case_claim", card, person)
    refusals = (await slack.fake.wait_for("response_url", count=4))[1:]
    for refusal in refusals:  # each comes from its own listener thread: in any order
        assert refusal.args["response_type"] == "ephemeral"
        assert refusal.args["replace_original"] is False  # the card stays as it is
    refused = (
        "Sorry, only the HR Advisory team reviewers and PolicyBot admins can claim HR-0001. "
        "A PolicyBot admin adds reviewers to POLICYBOT_HR_REVIEWERS."
    )
    assert len(refusals) == 3 and all(refused in r.text for r in refusals)
    await slack.fake.settle()
    assert slack.fake.of("chat.update") == []
    assert slack.cases.get("HR-0001").status == "open"


async def test_a_refusal_names_the_claimer_as_a_mention(slack: Slack) -> None:
    """The core names people by id in a refusal (``slack:UHR1``); the error handler shows
    them to the presser as Slack mentions."""
    _, card, _ = await escalate(slack)
    await press_on_card(slack, "case_claim", card, HR)
    await slack.fake.wait_for("chat.update")
    await press_on_card(slack, "case_claim", card, ADMIN)
    refusal = (await slack.fake.wait_for("response_url", count=2))[1]
    assert f"HR-0001 is already claimed by <@{HR}>" in refusal.text
    assert f"<@{HR}>" in str(refusal.blocks)  # the blocks too, not only the fallback


async def test_someone_else_pressing_reply_gets_no_modal(slack: Slack) -> None:
    _, card, _ = await escalate(slack)
    await press_on_card(slack, "case_reply", card, OTHER)
    refusal = (await slack.fake.wait_for("response_url", count=2))[1]
    assert (
        "Sorry, only the HR Advisory team reviewers and PolicyBot admins can reply to HR-0001. "
        "A PolicyBot admin adds reviewers to POLICYBOT_HR_REVIEWERS." in refusal.text
    )
    assert slack.fake.of("views.open") == []


async def test_a_reply_on_an_unclaimed_case_claims_it(slack: Slack) -> None:
    _, card, _ = await escalate(slack)
    await press_on_card(slack, "case_reply", card, HR)
    (opened,) = await slack.fake.wait_for("views.open")
    values = {"reply": {"text": {"type": "plain_text_input", "value": "Hello"}}}
    status, _, body = await slack.submit(opened.args["view"], values, user=HR)
    assert (status, body) == (200, "")
    case = slack.cases.get("HR-0001")
    assert case.status == "answered" and case.claimed_by == f"slack:{HR}"
    assert [(e.action, e.by) for e in case.events][1:3] == [
        ("claimed", f"slack:{HR}"),
        ("replied", f"slack:{HR}"),
    ]
    (updated,) = await slack.fake.wait_for("chat.update")
    assert f"Answered · <@{HR}>" in updated.text
    assert [e["action_id"] for e in elements(updated)] == [
        "case_reply",
        "case_resolve",
        "case_approve",  # a case with a reply may be saved as an approved answer
    ]


async def test_a_reply_on_a_resolved_case_says_what_to_do_on_the_form(slack: Slack) -> None:
    await escalate(slack)
    slack.cases.claim("HR-0001", by=f"slack:{HR}")
    slack.cases.resolve("HR-0001", by=f"slack:{HR}")
    view = {
        "type": "modal",
        "callback_id": "case_reply",
        "private_metadata": json.dumps({"case": "HR-0001"}),
    }
    values = {"reply": {"text": {"type": "plain_text_input", "value": "Hello"}}}
    status, _, body = await slack.submit(view, values, user=HR)
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"reply": "HR-0001 is resolved: reopen it before you reply to it"},
    }


async def test_app_home_for_staff_shows_how_to_ask_and_their_cases(slack: Slack) -> None:
    await escalate(slack)
    await slack.event(
        {"type": "app_home_opened", "user": STAFF, "channel": "DSTAFF", "tab": "home"}
    )
    (home,) = await slack.fake.wait_for("views.publish")
    assert home.args["user_id"] == STAFF and home.args["view"]["type"] == "home"
    assert "Mention me in a channel" in home.text and "Your cases" in home.text
    assert "HR-0001" in home.text and "cases to handle" not in home.text
    assert elements(home) == []  # staff get no case buttons

    await slack.event(
        {"type": "app_home_opened", "user": STAFF, "channel": "DSTAFF", "tab": "messages"}
    )
    await slack.fake.settle()
    assert len(slack.fake.of("views.publish")) == 1


async def test_app_home_for_a_reviewer_lists_their_teams_cases_with_buttons(slack: Slack) -> None:
    _, card, _ = await escalate(slack)
    await slack.event({"type": "app_home_opened", "user": HR, "channel": "DHR", "tab": "home"})
    (home,) = await slack.fake.wait_for("views.publish")
    assert "HR Advisory team: cases to handle" in home.text
    assert "Communications team: cases to handle" not in home.text
    assert [(e["action_id"], e["value"]) for e in elements(home)] == [
        ("case_claim", "HR-0001"),
        ("case_reply", "HR-0001"),
    ]

    # Claiming from App Home updates the card in the channel and the reviewer's home.
    await slack.press("case_claim", "HR-0001", user=HR)
    (updated,) = await slack.fake.wait_for("chat.update")
    assert (updated.args["channel"], updated.args["ts"]) == (HR_CHANNEL, card.result["ts"])
    again = (await slack.fake.wait_for("views.publish", count=2))[1]
    assert f"Claimed · <@{HR}>" in again.text


async def test_sla_reminders_list_cases_and_act_on_their_cards(slack: Slack) -> None:
    _, card, _ = await escalate(slack)
    (notifier,) = slack.client.app[NOTIFIERS]
    await asyncio.to_thread(notifier.remind, "hr", [slack.cases.get("HR-0001")])
    (reminder,) = await slack.fake.wait_for("chat.postMessage", lambda c: "unclaimed" in c.text)
    assert reminder.args["channel"] == HR_CHANNEL and "over 8 hours" in reminder.text
    assert [e["action_id"] for e in elements(reminder)] == ["case_claim", "case_reply"]

    await slack.press(
        "case_claim", "HR-0001", user=HR, message=posted_message(reminder), channel=HR_CHANNEL
    )
    (updated,) = await slack.fake.wait_for("chat.update")
    assert (
        updated.args["ts"] == card.result["ts"] != reminder.result["ts"]
    )  # the card, not the list


async def test_an_unknown_card_is_posted_again_rather_than_left_stale(slack: Slack) -> None:
    await escalate(slack)
    store = slack.assistant.state.store
    for _ in range(200):  # the card's place is saved just after Slack answers the post
        if store.get("slack", "card", "HR-0001") is not None:
            break
        await asyncio.sleep(0.02)
    assert store.get("slack", "card", "HR-0001") is not None
    store.delete("slack", "card", "HR-0001")  # as after a purge
    await slack.press("case_claim", "HR-0001", user=HR)  # from App Home: no card at hand
    cards = await slack.fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL, count=2
    )
    assert "earlier cards for this case are out of date" in cards[1].text
    assert f"Claimed · <@{HR}>" in cards[1].text
    assert slack.fake.of("chat.update") == []


async def test_a_reply_on_an_anonymous_case_goes_by_dm_only(slack: Slack) -> None:
    await escalate(slack)
    slack.cases.asker_update("HR-0001", by=f"slack:{STAFF}", anonymous=True)
    slack.cases.claim("HR-0001", by=f"slack:{HR}")
    view = {
        "type": "modal",
        "callback_id": "case_reply",
        "private_metadata": json.dumps({"case": "HR-0001"}),
    }
    values = {"reply": {"text": {"type": "plain_text_input", "value": "We will call you."}}}
    assert (await slack.submit(view, values, user=HR))[0] == 200
    (dm,) = await slack.fake.wait_for("chat.postMessage", lambda c: "We will call" in c.text)
    assert dm.args["channel"] == "DSTAFF"
    await slack.fake.settle()
    assert len(slack.fake.of("chat.postMessage", lambda c: "We will call" in c.text)) == 1
    assert slack.cases.get("HR-0001").events[-1].action == "delivered"


async def test_a_resolved_case_is_reopened_from_its_card(slack: Slack) -> None:
    _, card, _ = await escalate(slack)
    slack.cases.claim("HR-0001", by=f"slack:{HR}")
    slack.cases.resolve("HR-0001", by=f"slack:{HR}")
    await press_on_card(slack, "case_reopen", card, HR)
    (updated,) = await slack.fake.wait_for("chat.update")
    assert updated.args["ts"] == card.result["ts"] and "Reopened" in updated.text
    assert [e["action_id"] for e in elements(updated)] == ["case_claim", "case_reply"]
    assert slack.cases.get("HR-0001").status == "reopened"
