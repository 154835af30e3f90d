"""A case, and an answer, offer the same buttons on every platform: the core computes them
(:attr:`bot.case_views.CaseView.actions`, :func:`bot.answers.offers.answer_offers`), and
Slack's Block
Kit and Teams' Adaptive Cards draw exactly those, in that order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.blocks import blocks as slack_blocks
from adapters.slack.blocks import render as slack_render
from adapters.teams.cards import render, render_case
from bot import messages
from bot.case_views import STATUSES, CaseView, Status
from bot.models import Answer, Escalation

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPLY_INPUT = "reply_text"


def teams_answer(answer: Answer) -> Any:
    return render(messages.answer(answer))


def teams_card(case: CaseView, names: dict[str, str]) -> Any:
    return render_case(case, names).attachments[0].content


def a_case(status: Status) -> CaseView:
    claimed = "slack:UHR1" if status in ("claimed", "answered", "resolved") else None
    return CaseView(
        id="HR-0001",
        team="hr",
        status=status,
        platform="slack",
        question="Someone keeps abusing me online",
        asker="slack:USTAFF",
        asker_name="Sam Staff",
        anonymous=False,
        answer="See clause 9.1.",
        citations=(),
        note="",
        claimed_by=claimed,
        created_at=NOW,
        updated_at=NOW,
        events=(),
    )


def slack_steps(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["action_id"].removeprefix("case_")
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.mark.parametrize("status", STATUSES)
def test_slack_and_teams_offer_the_cores_steps(status: Status) -> None:
    case = a_case(status)
    _, blocks = slack_render(messages.case_card(case))
    teams = teams_card(case, {})
    home = slack_blocks(messages.home([], {"hr": [case]}, platform="slack").parts, limit=100)

    assert slack_steps(blocks) == list(case.actions)
    assert slack_steps(home) == list(case.actions)
    assert [action["data"]["action"] for action in teams.get("actions", [])] == list(case.actions)
    assert all(action["data"]["case_id"] == "HR-0001" for action in teams["actions"])
    # Teams' reply box is there exactly when a reply is offered.
    has_box = any(item.get("id") == REPLY_INPUT for item in teams["body"])
    assert has_box == ("reply" in case.actions)


def test_the_steps_follow_the_status() -> None:
    assert {status: a_case(status).actions for status in STATUSES} == {
        "open": ("claim", "reply"),
        "claimed": ("reply", "resolve"),
        "answered": ("reply", "resolve"),
        "resolved": ("reopen",),
        "reopened": ("claim", "reply"),
    }


def _answer(*, answered: bool, suggested: str | None) -> Answer:
    return Answer(
        question="Someone is abusing me online",
        answered=answered,
        text="See clause 9.1.",
        escalation=Escalation(suggested=suggested is not None, team=suggested, reason="r"),  # type: ignore[arg-type]
        id="ans1",
    )


def slack_offers(answer: Answer) -> list[str]:
    _, blocks = slack_render(messages.answer(answer))
    (block,) = [b for b in blocks if b.get("block_id") == "answer_actions"]
    return [element["action_id"] for element in block["elements"]]


def teams_offers(answer: Answer) -> list[str]:
    named = []
    for action in teams_answer(answer).attachments[0].content["actions"]:
        if action["type"] == "Action.ShowCard":
            named.append(f"escalate_{action['card']['actions'][0]['data']['team']}")
        else:
            named.append("feedback_up" if action["data"]["helpful"] else "feedback_down")
    return named


@pytest.mark.parametrize(
    ("answered", "suggested", "expected"),
    [
        (True, None, ["feedback_up", "feedback_down", "escalate_hr", "escalate_communications"]),
        (False, None, ["escalate_hr", "escalate_communications", "feedback_up", "feedback_down"]),
        (
            True,
            "communications",
            ["escalate_communications", "feedback_up", "feedback_down", "escalate_hr"],
        ),
    ],
)
def test_an_answer_offers_the_same_buttons_in_the_same_order_on_both_platforms(
    answered: bool, suggested: str | None, expected: list[str]
) -> None:
    answer = _answer(answered=answered, suggested=suggested)
    assert slack_offers(answer) == teams_offers(answer) == expected
