"""Two ``serve`` instances on one database behave as one in Teams (issue 11): a case card
posted by one instance is updated by the other, which also shows the names the first learned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

import adapters.server as server
from adapters.server import NOTIFIERS, create_app
from adapters.teams import mount
from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from tests.adapters.teams.conftest import (
    HR_CHANNEL,
    HR_REVIEWER,
    PEOPLE,
    Teams,
    card_text,
    start_teams,
)
from tests.adapters.teams.test_cases import ABUSE, ask_and_escalate, posted_case_card

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def pair(
    teams_engine: PolicyBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Teams, Teams]]:
    """Instances A and B on one database, in front of one Teams (the fake connector)."""
    monkeypatch.setattr(server, "TICK_SECONDS", 3600.0)  # the tests deliver the outbox
    async for a in start_teams(teams_engine, tmp_path):
        casework = Casework.open(Settings(data_dir=tmp_path, **PEOPLE))
        assistant = Assistant(teams_engine, casework)
        app = create_app(assistant, [mount], deliver_at_once=False)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        b = Teams(client, a.connector, a.service_url, assistant, app[NOTIFIERS][0])
        try:
            yield a, b
        finally:
            await client.close()
            casework.close()


async def test_a_card_posted_by_one_instance_is_updated_by_the_other(
    pair: tuple[Teams, Teams],
) -> None:
    a, b = pair
    await ask_and_escalate(a, ABUSE, "hr")
    card = await posted_case_card(a)  # A posts the card
    # The reviewer claims on B, in their chat with the bot: no card at hand there.
    await b.press({"action": "claim", "case_id": "HR-0001"}, sender=HR_REVIEWER)
    [claimed] = b.connector.updates()
    assert (claimed.conversation, claimed.activity_id) == (HR_CHANNEL, card.response_id)
    assert "Status: Claimed · Sam Patel" in card_text(claimed.card)
    cards = [c for c in b.connector.cards() if c.conversation == HR_CHANNEL]
    assert len(cards) == 1  # updated in place, not posted again

    # The asker adds a note on A, which never saw the reviewer: the card still names them.
    note = {"action": "add_to_case", "case_id": "HR-0001", "case_note": "It started in May"}
    await a.press(note)
    noted = a.connector.updates()[-1]
    assert noted.activity_id == card.response_id
    shown = card_text(noted.card)
    assert "It started in May" in shown and "Status: Claimed · Sam Patel" in shown


async def test_a_message_delivered_to_both_instances_is_answered_once(
    pair: tuple[Teams, Teams],
) -> None:
    a, b = pair
    activity = a.activity("How long are quarantined emails kept?")
    assert (await a.post(activity)).status == 201
    assert (await b.post(activity)).status == 201  # the Bot Framework resends it, to B
    assert (await a.post(activity)).status == 201
    answers = [c for c in a.connector.cards() if "30 days" in card_text(c.card)]
    assert len(answers) == 1
