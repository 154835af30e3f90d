"""Saving a reply as an approved answer in Slack: the card's button, the modal, the saved
answer served to a later question with its label; refusals to people who may not."""

from __future__ import annotations

import asyncio
import json

from adapters.delivery import PlatformDispatch
from adapters.server import NOTIFIERS
from tests.adapters.slack.conftest import HR, HR_CHANNEL, OTHER, Slack, posted_message
from tests.adapters.slack.fake_slack import Call
from tests.adapters.slack.test_escalation import elements, escalate

APPROVED = "I am being abused and harassed online because of my job. What should I do?"
CLAUSE = "electronic-communication-and-social-media-policy:9.2"
TEXT = "Keep screenshots, tell your line manager, and report threats to the police."


def value(text: str) -> dict[str, dict[str, str]]:
    return {"value": {"type": "plain_text_input", "value": text}}


async def replied_card(slack: Slack) -> Call:
    """A case the reviewer replied to from its card; the card as redrawn after the reply."""
    _, card, _ = await escalate(slack)
    assert "case_approve" not in [e["action_id"] for e in elements(card)]  # no reply yet
    message = posted_message(card)
    await slack.press("case_reply", "HR-0001", user=HR, message=message, channel=HR_CHANNEL)
    (opened,) = await slack.fake.wait_for("views.open")
    values = {"reply": {"text": {"type": "plain_text_input", "value": TEXT}}}
    assert (await slack.submit(opened.args["view"], values, user=HR))[0] == 200
    (updated,) = await slack.fake.wait_for(
        "chat.update", lambda c: "case_approve" in json.dumps(c.blocks)
    )
    return updated


async def test_a_reviewer_saves_a_reply_and_a_later_question_gets_it(slack: Slack) -> None:
    updated = await replied_card(slack)
    (approve,) = [e for e in elements(updated) if e["action_id"] == "case_approve"]
    assert (approve["value"], approve["text"]["text"]) == ("HR-0001", "Save as approved answer")
    card = {"text": updated.text, "blocks": updated.blocks, "ts": updated.args["ts"]}

    await slack.press("case_approve", "HR-0001", user=HR, message=card, channel=HR_CHANNEL)
    opened = (await slack.fake.wait_for("views.open", count=2))[1]
    view = opened.args["view"]
    assert view["callback_id"] == "case_approve"
    assert json.loads(view["private_metadata"]) == {"case": "HR-0001"}
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"][1:]}
    assert initial["question"] == "Someone keeps abusing me on Twitter about my job"
    assert initial["text"] == TEXT

    values = {"question": value(APPROVED), "text": value(TEXT), "clauses": value("nonsense")}
    status, _, body = await slack.submit(view, values, user=HR)
    assert status == 200 and "is not a clause" in json.loads(body)["errors"]["clauses"]
    values["clauses"] = value(CLAUSE)
    status, _, body = await slack.submit(view, values, user=HR)
    saved = json.loads(body)
    assert saved["response_action"] == "update"
    assert "Saved as approved answer A-0001" in json.dumps(saved["view"])
    assert slack.assistant.approved_answer("A-0001").question == APPROVED

    await slack.mention("How do I deal with online harassment connected to my work?")
    (answer,) = await slack.fake.wait_for(
        "chat.postMessage", lambda c: "Approved by the HR Advisory team on" in c.text
    )
    assert "*Approved by the HR Advisory team on" in json.dumps(answer.blocks)
    assert "report threats to the police" in answer.text
    assert "9.2" in json.dumps(answer.blocks)  # the clause it cites, after the answer
    await slack.fake.settle()


async def test_someone_else_pressing_save_is_refused_privately(slack: Slack) -> None:
    updated = await replied_card(slack)
    card = {"text": updated.text, "blocks": updated.blocks, "ts": updated.args["ts"]}
    told_before = len(slack.fake.of("response_url"))
    await slack.press("case_approve", "HR-0001", user=OTHER, message=card, channel=HR_CHANNEL)
    refusal = (await slack.fake.wait_for("response_url", count=told_before + 1))[-1]
    assert refusal.args["response_type"] == "ephemeral"
    assert (
        "Sorry, only the HR Advisory team reviewers and PolicyBot admins can approve its "
        "approved answers." in refusal.text
    )
    assert len(slack.fake.of("views.open")) == 1  # only the reply modal was ever opened
    assert slack.assistant.approved_answers() == []
    await slack.fake.settle()


async def test_a_suspended_answer_is_reported_in_the_teams_channel(slack: Slack) -> None:
    await replied_card(slack)
    slack.assistant.approve("HR-0001", by=f"slack:{HR}", clauses=(CLAUSE,))
    # As a reload that removed the clause would (tests/bot/test_approved.py does it for real).
    (suspended,) = slack.assistant.work.approved.suspend_changed({})
    dispatch = PlatformDispatch(slack.client.app[NOTIFIERS])
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, slack.assistant.work.outbox.flush, dispatch)
    assert result.failed == 0
    (posted,) = await slack.fake.wait_for(
        "chat.postMessage", lambda c: "needs review" in json.dumps(c.blocks)
    )
    assert posted.args["channel"] == HR_CHANNEL
    shown = json.dumps(posted.blocks)
    assert "*1 approved answer of the HR Advisory team needs review*" in shown
    assert f"*{suspended.id}*" in shown and "was removed" in shown and "Was: " in shown
    await slack.fake.settle()
