"""Policy-change announcements in Teams: ``announce`` -> the preview card -> Confirm -> the
post in the announcement channel and a message in the asker's personal chat; refusals, mute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.knowledge.changes import ChangeSet, ClauseChange, append_log, difference
from bot.storage.db import utcnow
from tests.adapters.teams.conftest import (
    ADMIN,
    OUTSIDER,
    PEOPLE,
    PERSONAL,
    TEAMS_SETTINGS,
    Teams,
    card_text,
    start_teams,
)

pytestmark = pytest.mark.asyncio

NEWS = "19:news@thread.tacv2"
EXTRA = {**TEAMS_SETTINGS, "TEAMS_ANNOUNCE_CHANNEL": NEWS}


@pytest.fixture
async def teams(real_bot: PolicyBot, tmp_path: Path) -> AsyncIterator[Teams]:
    engine = PolicyBot(replace(real_bot.settings, **PEOPLE, extra=EXTRA))
    settings = Settings(data_dir=tmp_path, **PEOPLE, extra=EXTRA)
    async for running in start_teams(engine, tmp_path, settings=settings):
        yield running


async def asked_then_changed(teams: Teams) -> ClauseChange:
    """The asker asks in their personal chat; a reload then changes the clause cited first."""
    await teams.say("Can I use Facebook at lunchtime?")
    (entry,) = teams.assistant.work.audit.entries()
    cited = entry.citations[0]
    change = ClauseChange(
        "changed",
        cited["source"],
        "The Policy",
        cited["section"],
        cited["title"],
        old="Staff may use social media at lunch.",
        new="Staff may use social media at lunch and after work.",
    )
    index_dir = teams.assistant.work.settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    at = (utcnow() + timedelta(minutes=1)).isoformat()
    append_log(index_dir, ChangeSet("v2", "v1", at, (change,)))
    return change


async def test_an_admin_confirms_the_preview_and_the_asker_hears_privately(teams: Teams) -> None:
    change = await asked_then_changed(teams)
    await teams.say("announce", sender=ADMIN, conversation="a:personal-admin")
    preview = teams.connector.sent()[-1]
    shown = card_text(preview.card)
    assert difference(change.old, change.new) in shown
    assert "To be posted in the announcement channel on Teams." in shown
    assert "1 direct message to 1 person" in shown
    confirm, cancel = preview.card["actions"]
    assert confirm["data"] == {"action": "announce_confirm", "since": "v1", "version": "v2"}

    await teams.press(confirm["data"], sender=ADMIN, conversation="a:personal-admin")
    assert "Announced the changes up to knowledge version v2" in teams.connector.sent()[-1].text
    assert (await teams.flush()).sent == 2

    post = next(c for c in teams.connector.sent() if c.conversation == NEWS)
    assert "Policy update" in post.text and difference(change.old, change.new) in post.text
    dm = next(c for c in teams.connector.sent() if "has changed" in c.text)
    assert dm.conversation == PERSONAL  # the asker's personal chat, never a channel
    assert "Staff may use social media at lunch and after work." in dm.text
    assert "send me `mute`" in dm.text and "Facebook" not in dm.text

    await teams.press(confirm["data"], sender=ADMIN, conversation="a:personal-admin")
    assert "announced already" in teams.connector.sent()[-1].text
    assert (await teams.flush()).sent == 0


async def test_others_may_not_announce_and_a_person_mutes(teams: Teams) -> None:
    await asked_then_changed(teams)
    await teams.say("announce", sender=OUTSIDER, conversation="a:personal-outsider")
    assert teams.connector.sent()[-1].text == (
        "Sorry, only PolicyBot admins can announce policy changes."
    )
    await teams.press(
        {"action": "announce_confirm", "since": "v1", "version": "v2"},
        sender=OUTSIDER,
        conversation="a:personal-outsider",
    )
    assert "only PolicyBot admins" in teams.connector.sent()[-1].text

    await teams.say("mute")
    assert "I won't message you about policy changes" in teams.connector.sent()[-1].text
    await teams.say("announce", sender=ADMIN, conversation="a:personal-admin")
    assert "1 muted" in card_text(teams.connector.sent()[-1].card)
    await teams.press({"action": "announce_cancel"}, sender=ADMIN)
    assert teams.connector.sent()[-1].text == "Nothing was announced."
    await teams.say("unmute")
    assert "I'll message you" in teams.connector.sent()[-1].text
