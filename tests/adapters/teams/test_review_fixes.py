"""Escalating from a channel keeps the receipt private; concurrent clicks open one case; user
text on case cards cannot become links or markup, and a long case still fits in a message;
the adapter's memories are bounded."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any

import pytest

from adapters.teams.cards import CARD_BUDGET, escape
from tests.adapters.teams.conftest import GENERAL, HR_CHANNEL, Teams, card_text
from tests.adapters.teams.test_cases import ABUSE, ask_and_escalate, posted_case_card

NOTE = "It is my neighbour, who works in Planning"
PHISH = "[Open the Council portal](https://phish.example/login)"
#: A rule question, answered in the channel: a personal situation would be answered in the
#: asker's personal chat (tests/adapters/teams/test_private.py), its buttons there too.
RULE = "How long are quarantined emails kept?"
IN_GENERAL: dict[str, Any] = {
    "conversation": f"{GENERAL};messageid=1",
    "kind": "channel",
    "mention": True,
}


@pytest.mark.asyncio
async def test_escalating_in_a_channel_sends_the_receipt_privately(teams: Teams) -> None:
    said = await ask_and_escalate(teams, RULE, "hr", where=IN_GENERAL, note_hr=NOTE)
    assert teams.assistant.work.cases.get("HR-0001").note == NOTE

    in_general = [c for c in teams.connector.sent() if c.conversation.startswith(GENERAL)]
    answer, *after = in_general
    assert [c.text for c in after] == [
        "I've passed this to a team; details are in our private chat."
    ]
    assert all(not c.body.get("attachments") for c in after)
    shown_in_channel = json.dumps([c.body for c in after])
    assert NOTE not in shown_in_channel and "HR-0001" not in shown_in_channel
    assert said is after[-1]

    [opened] = teams.connector.created
    assert opened["members"] == [{"id": "29:asker"}] and opened["isGroup"] is False
    [receipt] = [c for c in teams.connector.sent() if c.conversation.startswith("a:personal-")]
    shown = card_text(receipt.card)
    assert "HR-0001" in shown and f"Your note: {NOTE}" in shown
    assert "Their reply will come to you in a private message" in shown
    assert receipt.card["actions"][0]["data"] == {"action": "add_to_case", "case_id": "HR-0001"}

    # The reply later goes to the same private chat, without opening another.
    card = await posted_case_card(teams)
    value = {"action": "claim", "case_id": "HR-0001"}
    thread = {"conversation": f"{HR_CHANNEL};messageid=1", "kind": "channel"}
    reviewer = {"sender": {"id": "29:hr", "aadObjectId": "aad-hr", "name": "Sam Patel"}}
    await teams.press(value, reply_to=card.response_id, **thread, **reviewer)
    value = {"action": "reply", "case_id": "HR-0001", "reply_text": "We'll call you."}
    await teams.press(value, reply_to=card.response_id, **thread, **reviewer)
    await teams.flush()
    assert len(teams.connector.created) == 1
    assert teams.connector.sent()[-1].conversation == receipt.conversation


@pytest.mark.asyncio
async def test_a_double_click_in_a_channel_also_answers_privately(teams: Teams) -> None:
    await ask_and_escalate(teams, RULE, "hr", where=IN_GENERAL, note_hr=NOTE)
    data = {"action": "escalate", "team": "hr", "answer_id": _answer_id(teams)}
    await teams.press(data, **{k: v for k, v in IN_GENERAL.items() if k != "mention"})
    assert len(teams.assistant.work.cases.list()) == 1
    in_general = [c for c in teams.connector.sent() if c.conversation.startswith(GENERAL)]
    assert all(NOTE not in json.dumps(c.body) for c in in_general)
    private = [c for c in teams.connector.sent() if c.conversation.startswith("a:personal-")]
    assert len(private) == 2 and all("HR-0001" in card_text(c.card) for c in private)


def _answer_id(teams: Teams) -> str:
    answer = teams.connector.sent()[0].card
    form = next(a for a in answer["actions"] if a["type"] == "Action.ShowCard")
    return str(form["card"]["actions"][0]["data"]["answer_id"])


@pytest.mark.asyncio
async def test_concurrent_identical_submits_open_one_case(
    teams: Teams, monkeypatch: pytest.MonkeyPatch
) -> None:
    await teams.say(ABUSE)
    real = teams.assistant.escalating.escalate  # what the button's press calls

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # both clicks arrive while the first is still opening the case
        return real(*args, **kwargs)

    monkeypatch.setattr(teams.assistant.escalating, "escalate", slow)
    data = {"action": "escalate", "team": "hr", "answer_id": _answer_id(teams)}
    await asyncio.gather(teams.press(data), teams.press(data))
    assert [c.id for c in teams.assistant.work.cases.list()] == ["HR-0001"]
    receipts = [c for c in teams.connector.sent() if c.body.get("attachments")][1:]
    assert len(receipts) == 2 and all("HR-0001" in card_text(c.card) for c in receipts)


@pytest.mark.asyncio
async def test_a_failed_escalation_is_forgotten_so_a_retry_can_work(
    teams: Teams, monkeypatch: pytest.MonkeyPatch
) -> None:
    await teams.say(ABUSE)
    real = teams.assistant.escalating.escalate  # what the button's press calls
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(teams.assistant.escalating, "escalate", flaky)
    data = {"action": "escalate", "team": "hr", "answer_id": _answer_id(teams)}
    await teams.press(data)
    assert teams.assistant.work.cases.list() == []
    await teams.press(data)
    assert [c.id for c in teams.assistant.work.cases.list()] == ["HR-0001"]


@pytest.mark.asyncio
async def test_user_text_on_a_case_card_cannot_become_a_link(teams: Teams) -> None:
    sender = {"id": "29:asker", "aadObjectId": "aad-asker", "name": "Jo [Admin](https://x.example)"}
    question = f"I am being abused online by a member of the public. {PHISH}"
    await ask_and_escalate(
        teams, question, "hr", note_hr=f"**Urgent** {PHISH}", where={"sender": sender}
    )
    card = await posted_case_card(teams)
    shown = card_text(card.card)
    assert "](" not in shown.replace("\\](", "")  # every link opener is escaped
    assert escape(PHISH) in shown and "\\*\\*Urgent\\*\\*" in shown
    assert "Asked by: Jo \\[Admin\\]\\(https://x.example\\)" in shown

    thread = {"conversation": f"{HR_CHANNEL};messageid=1", "kind": "channel"}
    reviewer = {"sender": {"id": "29:hr", "aadObjectId": "aad-hr", "name": "Sam Patel"}}
    claim = {"action": "claim", "case_id": "HR-0001"}
    await teams.press(claim, reply_to=card.response_id, **thread, **reviewer)
    value = {"action": "reply", "case_id": "HR-0001", "reply_text": f"See {PHISH}"}
    await teams.press(value, reply_to=card.response_id, **thread, **reviewer)
    redrawn = card_text(teams.connector.updates()[-1].card)
    assert f"Reply from Sam Patel: See {escape(PHISH)}" in redrawn


def test_escape_neutralises_markdown() -> None:
    assert escape("[a](b)") == "\\[a\\]\\(b\\)"
    assert escape("*b* _i_ `c` <b> # h") == "\\*b\\* \\_i\\_ \\`c\\` \\<b\\> \\# h"
    assert escape("- one\n2. two\n===") == "\\- one\n2\\. two\n\\==="
    assert escape("e.g. a-b, 50%") == "e.g. a-b, 50%"
    assert escape("a \\ b") == "a \\\\ b"


@pytest.mark.asyncio
async def test_a_case_with_long_replies_still_fits_in_a_teams_message(teams: Teams) -> None:
    await ask_and_escalate(teams, ABUSE, "hr", note_hr="[x]" * 666)
    card = await posted_case_card(teams)
    cases = teams.assistant.work.cases
    reply = functools.partial(cases.reply, "HR-0001", by="teams:29:hr")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(cases.claim, "HR-0001", by="teams:29:hr"))
    long_replies = [f"Reply {n}: " + ("é[*]<" * 2000)[: 8000 - 10] for n in range(6)]
    for text in long_replies:
        await loop.run_in_executor(None, reply, text)

    thread = {"conversation": f"{HR_CHANNEL};messageid=1", "kind": "channel"}
    reviewer = {"sender": {"id": "29:hr", "aadObjectId": "aad-hr", "name": "Sam Patel"}}
    value = {"action": "reply", "case_id": "HR-0001", "reply_text": long_replies[-1]}
    await teams.press(value, reply_to=card.response_id, **thread, **reviewer)
    redrawn = teams.connector.updates()[-1]
    assert len(json.dumps(redrawn.card)) <= CARD_BUDGET
    assert len(json.dumps(redrawn.body).encode()) < 28_000
    shown = card_text(redrawn.card)
    assert "Reply 5: " in shown and "…" in shown and "earlier replies not shown" in shown
    kept = [e.text for e in cases.get("HR-0001").events if e.action == "replied"]
    assert kept[-1] == long_replies[-1]  # the core keeps the whole text
