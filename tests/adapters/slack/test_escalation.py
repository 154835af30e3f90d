"""One click to a person: the escalate buttons, the team's case card, the asker's modal."""

from __future__ import annotations

import json
from typing import Any

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


async def escalate(slack: Slack, team: str = "hr", question: str = "") -> tuple[Call, Call, str]:
    """Ask in a thread, press Ask <team>: (the answer, the team's card, the thread ts)."""
    ts = await slack.mention(question or "Someone keeps abusing me on Twitter about my job")
    (answer,) = await slack.fake.wait_for("chat.postMessage")
    answer_id = elements(answer)[0]["value"]
    status, elapsed, _ = await slack.press(
        f"escalate_{team}", answer_id, message=posted_message(answer)
    )
    assert status == 200
    channel = HR_CHANNEL if team == "hr" else COMMS_CHANNEL
    (card,) = await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == channel)
    return answer, card, ts


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
    assert case.pending_deliveries == 0  # the card went out at once, not at the next tick

    assert card.blocks[0]["text"]["text"] == "HR-0001 · HR Advisory team"
    assert "Someone keeps abusing me on Twitter" in card.text and f"<@{STAFF}>" in card.text
    assert "PolicyBot answered" in card.text
    assert [(e["action_id"], e["value"]) for e in elements(card)] == [
        ("case_claim", "HR-0001"),
        ("case_reply", "HR-0001"),
        ("case_resolve", "HR-0001"),
    ]


async def test_the_other_team_gets_its_own_card(slack: Slack) -> None:
    await escalate(slack, "communications", "A journalist rang me about a post I made")
    assert slack.cases.get("COM-0001").team == "communications"
    assert slack.fake.of("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL) == []


async def test_the_asker_adds_a_note_and_withholds_their_name(slack: Slack) -> None:
    _, card, _ = await escalate(slack, "hr")
    (told,) = await slack.fake.wait_for("response_url")
    await slack.press(
        "case_amend",
        "HR-0001",
        message={"blocks": told.blocks},
        container={
            "type": "message",
            "is_ephemeral": True,
            "channel_id": "CGENERAL",
            "message_ts": "1.1",
        },
    )
    (opened,) = await slack.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "case_amend" and opened.args["trigger_id"] == f"trig.{STAFF}"
    assert "may already have read it" in json.dumps(view)  # the honest warning

    values = {
        "note": {"text": {"type": "plain_text_input", "value": "It happens every evening"}},
        "anonymous": {
            "choice": {"type": "checkboxes", "selected_options": [{"value": "anonymous"}]}
        },
    }
    status, _, body = await slack.submit(view, values, user=STAFF)
    assert status == 200 and json.loads(body)["response_action"] == "update"
    assert "no longer sees your name" in body

    (updated,) = await slack.fake.wait_for("chat.update")
    assert (updated.args["channel"], updated.args["ts"]) == (HR_CHANNEL, card.result["ts"])
    assert f"<@{STAFF}>" not in updated.text and "withheld at the asker" in updated.text
    assert "It happens every evening" in updated.text
    case = slack.cases.get("HR-0001")
    assert case.anonymous and case.asker is None and case.note == "It happens every evening"


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
    assert "Only the person who asked may add to HR-0001" in errors["errors"]["note"]
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
    # Someone else pressing it on the same answer is a different asker: their own case.
    await slack.press(
        "escalate_hr", elements(answer)[0]["value"], message=posted_message(answer), user=OTHER
    )
    await slack.fake.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL, count=2
    )
    assert slack.cases.get("HR-0002").asker == f"slack:{OTHER}"
