"""Saving a reply as an approved answer in Teams: the form on the case card, the saved
answer served to a later question with its label, and refusals."""

from __future__ import annotations

import pytest

from tests.adapters.teams.conftest import HR_CHANNEL, OUTSIDER, Teams, card_text
from tests.adapters.teams.test_cases import (
    ABUSE,
    ask_and_escalate,
    posted_case_card,
    reviewer_press,
)

pytestmark = pytest.mark.asyncio

APPROVED = "I am being abused and harassed online because of my job. What should I do?"
CLAUSE = "electronic-communication-and-social-media-policy:9.2"
TEXT = "Keep screenshots, tell your line manager, and report threats to the police."


async def replied(teams: Teams) -> dict:
    """Escalate, reply from the card; the card as redrawn, with its approve form."""
    await ask_and_escalate(teams, ABUSE, "hr")
    card = await posted_case_card(teams)
    assert "Save as approved answer" not in str(card.card)  # no reply yet
    await teams.press(**reviewer_press("reply", card, reply_text=TEXT))
    answered = teams.connector.updates()[-1]
    (form,) = [a for a in answered.card["actions"] if a["type"] == "Action.ShowCard"]
    assert form["title"] == "Save as approved answer"
    return {"card": card, "form": form["card"]}


async def test_a_reviewer_saves_a_reply_and_a_later_question_gets_it(teams: Teams) -> None:
    shown = await replied(teams)
    inputs = {i["id"]: i.get("value") for i in shown["form"]["body"] if i["type"] == "Input.Text"}
    assert inputs["approve_question"] == ABUSE and inputs["approve_text"] == TEXT
    (submit,) = shown["form"]["actions"]
    assert submit["data"] == {"action": "approve", "case_id": "HR-0001"}

    typed = {"approve_question": APPROVED, "approve_text": TEXT, "approve_clauses": CLAUSE}
    await teams.press(**reviewer_press("approve", shown["card"], **typed))
    receipt = teams.connector.sent()[-1]
    assert receipt.text.startswith("Saved as approved answer A-0001")
    assert teams.assistant.approved_answer("A-0001").question == APPROVED

    before = len(teams.connector.sent())
    await teams.say("How do I deal with online harassment connected to my work?")
    answer = teams.connector.sent()[before]
    shown_text = card_text(answer.card)
    assert "Approved by the HR Advisory team on" in shown_text
    assert "report threats to the police" in shown_text and "9.2" in shown_text


async def test_someone_else_may_not_approve_and_a_bad_clause_is_explained(teams: Teams) -> None:
    shown = await replied(teams)
    typed = {"approve_question": APPROVED, "approve_text": TEXT, "approve_clauses": CLAUSE}
    await teams.press(**reviewer_press("approve", shown["card"], sender=OUTSIDER, **typed))
    assert teams.connector.sent()[-1].text == (
        "Sorry, only the HR Advisory team reviewers and PolicyBot admins can approve its "
        "approved answers."
    )
    bad = {**typed, "approve_clauses": "policy:99"}
    await teams.press(**reviewer_press("approve", shown["card"], **bad))
    assert "does not name one document" in teams.connector.sent()[-1].text
    assert teams.assistant.approved_answers() == []


async def test_a_suspended_answer_is_reported_in_the_teams_channel(teams: Teams) -> None:
    await replied(teams)
    teams.assistant.approve("HR-0001", by="teams:29:hr", clauses=(CLAUSE,))
    # As a reload that removed the clause would (tests/bot/test_approved.py does it for real).
    teams.assistant.work.approved.suspend_changed({})
    result = await teams.flush()  # the reply to the asker, and the notice
    assert result.sent == 2 and result.failed == 0
    (notice,) = [c for c in teams.connector.sent() if "needs review" in (c.text or "")]
    assert notice.conversation == HR_CHANNEL
    assert "**1 approved answer of the HR Advisory team needs review**" in notice.text
    assert "A-0001" in notice.text and "was removed" in notice.text
