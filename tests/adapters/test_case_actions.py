"""A case offers the same steps on every platform: the core computes them
(:attr:`bot.case_views.CaseView.actions`), and Slack's Block Kit card, App Home and reminders
and Teams' Adaptive Card draw exactly those, in that order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.case_blocks import case_card as slack_card
from adapters.slack.case_blocks import home_view
from adapters.teams.case_cards import REPLY_INPUT
from adapters.teams.case_cards import case_card as teams_card
from bot.case_views import STATUSES, CaseView, Status

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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
    _, blocks = slack_card(case)
    teams = teams_card(case, {})
    home = home_view([], {"hr": [case]})["blocks"]

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
