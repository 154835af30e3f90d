"""Admins reload the policy documents from Teams; nobody else may."""

from __future__ import annotations

import pytest

from bot.reload.lease import ALREADY_RUNNING, ReloadLease
from tests.adapters.teams.conftest import ADMIN, ASKER, Teams

pytestmark = pytest.mark.asyncio


async def test_an_admin_reloads_and_gets_the_diff(teams: Teams) -> None:
    await teams.say("reload", sender=ADMIN)
    reply = teams.connector.sent()[-1]
    # Worded in the core, as in Slack ("... reloaded by @Alex"): who reloaded, by name.
    assert reply.text.startswith("Policy documents reloaded by Alex Admin.")
    assert "No changes: the index is up to date." in reply.text
    assert "5 documents" in reply.text and "knowledge version" in reply.text
    assert teams.connector.sent("typing")  # reloading can take a while


async def test_a_reload_from_anyone_else_is_refused(teams: Teams) -> None:
    before = teams.assistant.engine.knowledge_version
    await teams.say("reload", sender=ASKER)
    [reply] = teams.connector.sent()
    assert reply.text == "Only PolicyBot admins can reload the policy documents."
    assert teams.assistant.engine.knowledge_version == before


async def test_a_reload_while_another_instance_reloads_is_refused_politely(teams: Teams) -> None:
    other = ReloadLease(teams.assistant.work.db)
    assert other.acquire()  # another instance on the database is reloading
    try:
        await teams.say("reload", sender=ADMIN)
    finally:
        other.release()
    [reply] = [a for a in teams.connector.sent() if a.type != "typing"]
    assert reply.text == ALREADY_RUNNING
