"""The Teams adapter over real HTTP: ``create_app`` with the Teams mount, served on 127.0.0.1;
activities are POSTed to ``/api/messages`` and the bot's replies reach a fake connector that
the activities' ``serviceUrl`` names. The engine is the real one over the shipped documents.

No test may reach beyond this machine: ``no_network`` fails any test that looks up a host
other than the loopback (Microsoft's sign-in or OpenID endpoints, for instance).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

import adapters.server as server
from adapters.server import NOTIFIERS, create_app
from adapters.teams import mount
from adapters.teams.notifier import TeamsNotifier
from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.cases.outbox import FlushResult
from bot.config import Settings
from bot.engine import PolicyBot
from tests.adapters.teams.fake_connector import FakeConnector

BOT = {"id": "28:policybot", "name": "PolicyBot"}
ASKER = {"id": "29:asker", "aadObjectId": "aad-asker", "name": "Jo Bloggs"}
HR_REVIEWER = {"id": "29:hr", "aadObjectId": "aad-hr", "name": "Sam Patel"}
ADMIN = {"id": "29:admin", "aadObjectId": "aad-admin", "name": "Alex Admin"}
OUTSIDER = {"id": "29:outsider", "aadObjectId": "aad-outsider", "name": "Lee Other"}
TENANT = "tenant-1"
PERSONAL = "a:personal-asker"
HR_CHANNEL = "19:hr-cases@thread.tacv2"
COMMS_CHANNEL = "19:comms-cases@thread.tacv2"
GENERAL = "19:general@thread.tacv2"

_MESSAGE_IDS = itertools.count(1)

PEOPLE = {
    # One reviewer configured by the 29: id, the admin by the Entra object id: both work.
    "admins": frozenset({"teams:aad-admin"}),
    "hr_reviewers": frozenset({"teams:29:hr"}),
    "comms_reviewers": frozenset({"teams:aad-comms"}),
}
TEAMS_SETTINGS = {
    "TEAMS_LOCAL_DEV": "1",
    "TEAMS_HR_CHANNEL": HR_CHANNEL,
    "TEAMS_COMMS_CHANNEL": COMMS_CHANNEL,
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse, and fail the test on, any look-up of a host that is not this machine."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in {"127.0.0.1", "localhost", "::1"}:
            attempts.append(name)
            raise OSError(f"test tried to reach {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield attempts
    assert attempts == [], f"tests must not leave this machine: {attempts}"


@pytest.fixture(scope="session")
def teams_engine(real_bot: PolicyBot) -> PolicyBot:
    """The real engine and index, with the Teams settings, the admins and the reviewers."""
    settings = replace(real_bot.settings, **PEOPLE, extra=TEAMS_SETTINGS)
    return PolicyBot(settings)


@dataclass
class Teams:
    """The running server, its fake connector and helpers to talk to it."""

    client: TestClient[Any, Any]
    connector: FakeConnector
    service_url: str
    assistant: Assistant
    notifier: TeamsNotifier

    def activity(
        self,
        text: str | None = None,
        *,
        sender: dict[str, str] = ASKER,
        conversation: str = PERSONAL,
        kind: str = "personal",
        value: dict[str, Any] | None = None,
        reply_to: str | None = None,
        mention: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """A message activity as Teams sends it."""
        activity: dict[str, Any] = {
            "type": "message",
            "id": f"msg-{next(_MESSAGE_IDS)}",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": sender,
            "recipient": BOT,
            "conversation": {
                "id": conversation,
                "conversationType": kind,
                "tenantId": TENANT,
                "isGroup": kind != "personal",
            },
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-GB",
        }
        if text is not None:
            activity["text"] = f"<at>PolicyBot</at> {text}" if mention else text
        if mention:
            activity["entities"] = [
                {"type": "mention", "text": "<at>PolicyBot</at>", "mentioned": BOT}
            ]
        if value is not None:
            activity["value"] = value
        if reply_to:
            activity["replyToId"] = reply_to
        return {**activity, **extra}

    async def post(self, activity: Any, **kwargs: Any) -> ClientResponse:
        return await self.client.post("/api/messages", json=activity, **kwargs)

    async def say(self, text: str, **options: Any) -> ClientResponse:
        response = await self.post(self.activity(text, **options))
        assert response.status == 201, await response.text()
        return response

    async def press(self, value: dict[str, Any], **options: Any) -> None:
        response = await self.post(self.activity(value=value, **options))
        assert response.status == 201, await response.text()

    async def flush(self) -> FlushResult:
        """Deliver the outbox through the Teams notifier, as the server's timer would."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.assistant.work.outbox.flush, self.notifier)


async def start_teams(
    engine: PolicyBot,
    data_dir: Path,
    *,
    mount_teams: Callable[..., Any] = mount,
    before: Callable[[FakeConnector], None] | None = None,
    deliver_at_once: bool = False,
    settings: Settings | None = None,
) -> AsyncIterator[Teams]:
    """Start the fake connector and the bot's server; yield them; stop both. The tests
    deliver the outbox by hand (:meth:`Teams.flush`), as the server's timer would, unless
    ``deliver_at_once``. ``settings``: the case database's, if not the default ones."""
    connector = FakeConnector()
    if before:
        before(connector)
    connector_server = TestServer(connector.app(), host="127.0.0.1")
    await connector_server.start_server()
    casework = Casework.open(settings or Settings(data_dir=data_dir, **PEOPLE))
    assistant = Assistant(engine, casework)
    app = create_app(assistant, [mount_teams], deliver_at_once=deliver_at_once)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Teams(
            client=client,
            connector=connector,
            service_url=str(connector_server.make_url("")).rstrip("/"),
            assistant=assistant,
            notifier=app[NOTIFIERS][0],
        )
    finally:
        await client.close()
        await connector_server.close()
        casework.close()


@pytest.fixture
async def teams(
    teams_engine: PolicyBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Teams]:
    """The bot in local development mode (no app id: authentication off)."""
    monkeypatch.setattr(server, "TICK_SECONDS", 3600.0)  # the tests deliver the outbox
    async for running in start_teams(teams_engine, tmp_path):
        yield running


def texts(node: Any) -> list[str]:
    """Every TextBlock text and fact in a card, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            found.append(node["text"])
        found += [f"{fact['title']}: {fact['value']}" for fact in node.get("facts", [])]
        for key, value in node.items():
            if key != "facts":
                found += texts(value)
    elif isinstance(node, list):
        for item in node:
            found += texts(item)
    return found


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(texts(card))
