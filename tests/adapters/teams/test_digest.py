"""``insights`` in Teams: the weekly digest for admins, always in their personal chat."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import phrases
from bot.ops.digest import NOT_AN_ADMIN
from tests.adapters.teams.conftest import ADMIN, ASKER, GENERAL, Teams, card_text

pytestmark = pytest.mark.asyncio

URL = "https://policybot.example.gov.uk"


async def test_an_admin_gets_the_digest_with_a_link_to_the_full_report(teams: Teams) -> None:
    engine = teams.assistant.engine
    engine.settings = replace(engine.settings, public_url=URL)
    try:
        await teams.say("How long are quarantined emails kept?")
        await teams.say("insights", sender=ADMIN, conversation="a:personal-admin")
    finally:
        engine.settings = replace(engine.settings, public_url="")
    digest = teams.connector.sent()[-1]
    assert digest.conversation == "a:personal-admin"
    shown = card_text(digest.card)
    assert "Insights: the last 7 days" in shown and "Since " in shown  # as in Slack
    assert "1 question, 100% answered from the documents." in shown
    [open_report] = digest.card["actions"]
    assert open_report["type"] == "Action.OpenUrl"
    assert open_report["url"].startswith(f"{URL}/insights/")
    async with teams.client.get(open_report["url"].removeprefix(URL)) as page:
        assert page.status == 200 and 'id="chart-weeks"' in await page.text()


async def test_staff_are_refused(teams: Teams) -> None:
    await teams.say("insights", sender=ASKER)
    [refusal] = teams.connector.sent()
    assert NOT_AN_ADMIN in refusal.text


async def test_asked_in_a_channel_the_digest_goes_to_the_admins_personal_chat(
    teams: Teams,
) -> None:
    thread = f"{GENERAL};messageid=1700000000001"
    await teams.say("insights", sender=ADMIN, conversation=thread, kind="channel", mention=True)
    [created] = teams.connector.created
    assert [m["id"] for m in created["members"]] == [ADMIN["id"]]
    digest, note = teams.connector.sent()
    assert digest.conversation.startswith("a:personal-") and digest.conversation != thread
    assert "Insights: the last 7 days" in card_text(digest.card)
    assert "policybot insights --since" in card_text(digest.card)  # no public URL: the command
    assert note.conversation == thread and note.text == phrases.REPLIED_PRIVATELY
