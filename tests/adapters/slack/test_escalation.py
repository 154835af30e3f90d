"""One click to a person: the escalate buttons, the team's case card, the asker's modal."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from adapters.delivery import PlatformDispatch
from adapters.server import NOTIFIERS
from bot import phrases
from tests.adapters.slack.conftest import (
    COMMS_CHANNEL,
    HR_CHANNEL,
    OTHER,
    STAFF,
    Slack,
    posted_message,
)
from tests.adapters.slack.fake_slack import Call


def elements(call: Call, kind: str = "actions") -> list[dict[str, Any]]:
    return [e for b in call.blocks if b["type"] == kind for e in b.get("elements", [])]


async def escalate(
    slack: Slack, team: str = "hr", question: str = "", *, user: str = STAFF
) -> tuple[Call, Call, str]:
    """Ask in a thread, press Ask <team>, close the asker's modal without choosing anything
    (which releases the held card): (the answer, the team's card, the thread ts)."""
    ts = await slack.mention(question or "Someone keeps abusing me on Twitter about my job")
    (answer,) = await slack.fake.wait_for("chat.postMessage")
    case_id = await press_escalate(slack, answer, team, user=user)
    assert (await slack.close(case_id, user=user))[0] == 200
    channel = HR_CHANNEL if team == "hr" else COMMS_CHANNEL
    (card,) = await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == channel)
    return answer, card, ts


async def press_escalate(slack: Slack, answer: Call, team: str = "hr", *, user: str = STAFF) -> str:
    """Press Ask <team> on ``answer``; the id of the case the asker is told about."""
    told_before = len(slack.fake.of("response_url"))
    status, _, _ = await slack.press(
        f"escalate_{team}", elements(answer)[0]["value"], message=posted_message(answer), user=user
    )
    assert status == 200
    told = (await slack.fake.wait_for("response_url", count=told_before + 1))[-1]
    return str(elements(told)[0]["value"])


async def test_escalating_opens_a_case_tells_the_asker_and_posts_the_card(slack: Slack) -> None:
    answer, card, ts = await escalate(slack, "hr")
    (told,) = await slack.fake.wait_for("response_url")
    assert told.args["response_type"] == "ephemeral" and told.args["replace_original"] is False
    assert "Passed to the HR Advisory team as case HR-0001" in told.text
    assert [(e["action_id"], e["value"]) for e in elements(told)] == [("case_amend", "HR-0001")]

    case = slack.cases.get("HR-0001")
    assert case.asker == f"slack:{STAFF}" and case.asker_name == f"Person {STAFF}"
    assert case.question == "Someone keeps abusing me on Twitter about my job"
    assert case.answer == slack.assistant.answered(elements(answer)[0]["value"])[1].text
    # the card went out as soon as the asker closed the modal, not at the next tick
    for _ in range(100):
        if slack.cases.get("HR-0001").pending_deliveries == 0:
            break
        await asyncio.sleep(0.05)
    assert slack.cases.get("HR-0001").pending_deliveries == 0
    assert len(slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL)) == 1

    assert card.blocks[0]["text"]["text"] == "HR-0001 · HR Advisory team"
    assert "Someone keeps abusing me on Twitter" in card.text and f"<@{STAFF}>" in card.text
    assert "PolicyBot answered" in card.text
    assert [(e["action_id"], e["value"]) for e in elements(card)] == [
        ("case_claim", "HR-0001"),
        ("case_reply", "HR-0001"),
    ]  # the core's steps for an open case: a reply claims it, resolving needs a claim


async def test_the_other_team_gets_its_own_card(slack: Slack) -> None:
    await escalate(slack, "communications", "A journalist rang me about a post I made")
    assert slack.cases.get("COM-0001").team == "communications"
    assert slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL) == []


async def open_amend_modal(slack: Slack, case_id: str, user: str = STAFF) -> dict[str, Any]:
    told = slack.fake.of("response_url", lambda c: case_id in c.text)[-1]
    opened_before = len(slack.fake.of("views.open"))
    await slack.press(
        "case_amend",
        case_id,
        user=user,
        message={"blocks": told.blocks},
        container={
            "type": "message",
            "is_ephemeral": True,
            "channel_id": "CGENERAL",
            "message_ts": "1.1",
        },
    )
    opened = (await slack.fake.wait_for("views.open", count=opened_before + 1))[-1]
    assert opened.args["trigger_id"] == f"trig.{user}"
    return dict(opened.args["view"])


ANONYMOUS = {
    "note": {"text": {"type": "plain_text_input", "value": "It happens every evening"}},
    "anonymous": {"choice": {"type": "checkboxes", "selected_options": [{"value": "anonymous"}]}},
}


def flush_outbox(slack: Slack) -> Any:
    """One delivery round, as the server's tick does it."""
    return slack.assistant.work.outbox.flush(PlatformDispatch(slack.client.app[NOTIFIERS]))


async def test_an_anonymous_asker_is_never_named_to_the_team(slack: Slack) -> None:
    await slack.mention("Someone keeps abusing me on Twitter about my job")
    (answer,) = await slack.fake.wait_for("chat.postMessage")
    case_id = await press_escalate(slack, answer)
    assert case_id == "HR-0001"  # the case exists at once
    await slack.fake.settle()
    # The delivery loop comes round before the asker has chosen: the card waits.
    result = await asyncio.to_thread(flush_outbox, slack)
    assert (result.sent, result.failed, result.pending) == (0, 0, 1)
    assert slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL) == []

    view = await open_amend_modal(slack, case_id)
    assert view["callback_id"] == "case_amend" and view["notify_on_close"] is True
    assert "when you save or cancel this form" in json.dumps(view)  # the honest promise
    status, _, body = await slack.submit(view, ANONYMOUS, user=STAFF)
    assert status == 200 and json.loads(body)["response_action"] == "update"
    assert "will not see your name" in body  # the card waited for this choice

    (card,) = await slack.fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL
    )
    assert "withheld at the asker" in card.text and "It happens every evening" in card.text
    case = slack.cases.get(case_id)
    assert case.anonymous and case.asker is None and case.note == "It happens every evening"
    # The outbox's own later attempt posts nothing more; nothing in the channel names them.
    await slack.fake.settle()
    await asyncio.to_thread(flush_outbox, slack)
    await slack.fake.settle()
    team_saw = slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL)
    team_saw += slack.fake.of("chat.update", lambda c: c.args["channel"] == HR_CHANNEL)
    assert team_saw == [card]
    assert all(STAFF not in json.dumps(c.args) for c in team_saw)


async def test_the_card_goes_out_when_the_asker_does_not_choose(slack: Slack) -> None:
    await slack.mention("Someone keeps abusing me on Twitter about my job")
    (answer,) = await slack.fake.wait_for("chat.postMessage")
    assert await press_escalate(slack, answer) == "HR-0001"
    assert (await asyncio.to_thread(flush_outbox, slack)).sent == 0
    slack.clock.advance(minutes=2)
    result = await asyncio.to_thread(flush_outbox, slack)
    assert result.sent == 1
    (card,) = await slack.fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL
    )
    assert f"<@{STAFF}>" in card.text


async def test_the_asker_withholds_their_name_after_the_card_went_out(slack: Slack) -> None:
    _, card, _ = await escalate(slack, "hr")
    view = await open_amend_modal(slack, "HR-0001")
    shown = json.dumps(view)
    assert "may already have read it" in shown  # the honest warning
    assert "when you save or cancel this form" not in shown  # and no promise it can't keep
    status, _, body = await slack.submit(view, ANONYMOUS, user=STAFF)
    assert status == 200 and json.loads(body)["response_action"] == "update"

    (updated,) = await slack.fake.wait_for("chat.update")
    assert (updated.args["channel"], updated.args["ts"]) == (HR_CHANNEL, card.result["ts"])
    assert f"<@{STAFF}>" not in updated.text and "withheld at the asker" in updated.text
    assert "It happens every evening" in updated.text


async def test_only_the_asker_may_add_to_their_case(slack: Slack) -> None:
    await escalate(slack, "hr")
    view = {
        "type": "modal",
        "callback_id": "case_amend",
        "private_metadata": json.dumps({"case": "HR-0001"}),
    }
    values = {"note": {"text": {"type": "plain_text_input", "value": "I am not the asker"}}}
    status, _, body = await slack.submit(view, values, user=OTHER)
    assert status == 200
    errors = json.loads(body)
    assert errors["response_action"] == "errors"
    assert "Sorry, only the person who asked can add to HR-0001" in errors["errors"]["note"]
    assert slack.cases.get("HR-0001").note == ""
    assert slack.fake.of("chat.update") == []


async def test_a_double_click_opens_one_case(slack: Slack) -> None:
    answer, _, _ = await escalate(slack, "hr")
    await slack.press("escalate_hr", elements(answer)[0]["value"], message=posted_message(answer))
    _, again = await slack.fake.wait_for("response_url", count=2)
    assert "Already passed to the HR Advisory team as case HR-0001" in again.text
    await slack.fake.settle()
    assert [c.id for c in slack.cases.list("hr")] == ["HR-0001"]
    assert len(slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL)) == 1


async def test_someone_else_may_not_pass_on_another_persons_answer(slack: Slack) -> None:
    answer, _, _ = await escalate(slack, "hr")
    status, _, _ = await slack.press(
        "escalate_communications",
        elements(answer)[0]["value"],
        message=posted_message(answer),
        user=OTHER,
    )
    assert status == 200
    _, refused = await slack.fake.wait_for("response_url", count=2)
    assert phrases.NOT_YOUR_ANSWER in refused.text
    assert [c.id for c in slack.cases.list()] == ["HR-0001"]
    assert slack.cases.get("HR-0001").asker == f"slack:{STAFF}"
