"""Admins see the weekly insights digest in App Home, with a link to the full report."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient

from tests.adapters.slack.conftest import ADMIN, HR, STAFF, Slack

URL = "https://policybot.example.gov.uk"


async def home_of(slack: Slack, user: str) -> Any:
    await slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    found = await slack.fake.wait_for("views.publish", lambda c: c.args["user_id"] == user)
    return found[0]


async def test_an_admin_sees_the_digest_and_its_link_opens_the_report(slack: Slack) -> None:
    slack.engine.settings = replace(slack.engine.settings, public_url=URL)
    await slack.mention("Can I use Facebook at lunchtime?")
    await slack.mention("What is the capital of France?")
    await slack.fake.wait_for("chat.postMessage", count=2)

    home = await home_of(slack, ADMIN)
    assert "Insights: the last 7 days" in home.text
    assert "2 questions, 50% answered from the documents." in home.text
    assert "1 theme not answered; the largest, 1 question: “What is the capital of France?”" in (
        home.text
    )
    (link,) = [
        word.split("|")[0].lstrip("<")
        for block in home.blocks
        if block["type"] == "section"
        for word in block["text"]["text"].split()
        if word.startswith(f"<{URL}/insights/")
    ]
    path = link.removeprefix(URL)
    client: TestClient[Any, Any] = slack.client
    async with client.get(path) as page:
        assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
        body = await page.text()
    assert 'id="chart-weeks"' in body and "capital of France" in body
    async with client.get("/insights/forged-token") as refused:
        assert refused.status == 404 and "expired" in await refused.text()


async def test_staff_and_reviewers_see_no_digest(slack: Slack) -> None:
    for person in (STAFF, HR):
        home = await home_of(slack, person)
        assert "Insights" not in home.text and "Your cases" in home.text


async def test_without_a_public_url_the_digest_gives_the_command(slack: Slack) -> None:
    home = await home_of(slack, ADMIN)
    assert "Insights: the last 7 days" in home.text
    assert "policybot insights --since" in home.text and "/insights/" not in home.text


async def test_policy_insights_shows_an_admin_the_digest_and_refuses_anyone_else(
    slack: Slack,
) -> None:
    """The same command as Teams' ``insights`` (:mod:`bot.commands`), shown to the admin alone."""
    await slack.command("insights", user=ADMIN)
    (shown,) = await slack.fake.wait_for("response_url")
    assert shown.args["response_type"] == "ephemeral"
    assert "Insights: the last 7 days" in shown.text and "policybot insights --since" in shown.text

    await slack.command("insights", user=STAFF)
    refused = (await slack.fake.wait_for("response_url", count=2))[1]
    assert refused.args["response_type"] == "ephemeral" and "Insights:" not in refused.text
    assert "admin" in refused.text
