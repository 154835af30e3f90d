"""The Slack app under test: ``create_app`` with the Slack mount, served on 127.0.0.1, the real
engine over the shipped documents, a fresh case database, and a fake Slack.

``slack`` is the test's handle: it sends signed requests as Slack would (events, ``/policy``,
button presses, modal submissions) and reads what reached the fake Slack.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from adapters.server import create_app
from adapters.slack import mount
from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.conversation.history import Turn
from bot.engine import PolicyBot
from bot.models import Answer, Question
from bot.storage.db import utcnow
from tests.adapters.slack.fake_slack import BOT_TOKEN, BOT_USER, FakeSlack

SECRET = "test-signing-secret"
HR_CHANNEL, COMMS_CHANNEL = "CHR", "CCOMMS"
HR, COMMS, ADMIN, STAFF, OTHER = "UHR1", "UCOMMS1", "UADMIN", "USTAFF", "UOTHER"


class ScriptedEngine:
    """The real engine, which a test can make answer otherwise (slowly, wrongly, or at length)."""

    def __init__(self, real: PolicyBot, settings: Settings) -> None:
        self.real = real
        self.settings = settings
        self.script: Callable[[Question], Answer] | None = None

    def ask(self, question: Question, window: Sequence[Turn] = (), **options: Any) -> Answer:
        if self.script:
            return self.script(question)
        return self.real.ask(question, window, **options)

    def reload_documents(self, requested_by: str | None = None, **kwargs: Any) -> Any:
        # The engine's own code, checking this test's admins, over the real index.
        return PolicyBot.reload_documents(self, requested_by, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def slack_settings(data_dir: Path, **extra: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        admins=frozenset({f"slack:{ADMIN}"}),
        hr_reviewers=frozenset({f"slack:{HR}"}),
        comms_reviewers=frozenset({f"slack:{COMMS}"}),
        extra={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_HR_CHANNEL": HR_CHANNEL,
            "SLACK_COMMS_CHANNEL": COMMS_CHANNEL,
            **extra,
        },
    )


class LaterClock:
    """The real time, which a test can move on (to see what happens two minutes later)."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.ahead

    def advance(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)


@dataclass
class Slack:
    """Sends what Slack sends, signed, and reads what reached the fake Slack."""

    client: TestClient
    fake: FakeSlack
    assistant: Assistant
    engine: ScriptedEngine
    clock: LaterClock
    secret: str = SECRET
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def cases(self) -> Any:
        return self.assistant.work.cases

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[int, float, str]:
        """POST to /slack/events; the status, the seconds until the response, and its body."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret or self.secret).generate_signature(
            timestamp=stamp, body=body
        )
        sent = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            "Content-Type": content_type,
            **(headers or {}),
        }
        started = time.perf_counter()
        async with self.client.post("/slack/events", data=body.encode(), headers=sent) as resp:
            text = await resp.text()
            return resp.status, time.perf_counter() - started, text

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        n = next(self._ids)
        return json.dumps(
            {
                "token": "legacy",
                "team_id": "T0001",
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": event_id or f"Ev{n:06d}",
                "event_time": int(time.time()),
                "event": event,
                "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}],
            }
        )

    async def event(self, event: dict[str, Any], **kwargs: Any) -> tuple[int, float, str]:
        body = self.event_body(event, kwargs.pop("event_id", None))
        return await self.post(body, "application/json", **kwargs)

    async def mention(
        self,
        text: str,
        *,
        user: str = STAFF,
        channel: str = "CGENERAL",
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """An app_mention; returns its ts (the thread the answer goes in)."""
        ts = ts or f"1699999999.{next(self._ids):06d}"
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        status, _, _ = await self.event(event)
        assert status == 200
        return ts

    def response_url(self) -> str:
        return f"{self.fake.url}respond/{next(self._ids)}"

    async def command(
        self, text: str, *, user: str = STAFF, channel: str = "CGENERAL"
    ) -> tuple[int, float, str]:
        form = {
            "token": "legacy",
            "team_id": "T0001",
            "channel_id": channel,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/policy",
            "text": text,
            "response_url": self.response_url(),
            "trigger_id": f"trig.{next(self._ids)}",  # Slack's differs each time
        }
        return await self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> tuple[int, float, str]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def press(
        self,
        action_id: str,
        value: str,
        *,
        user: str = STAFF,
        message: dict[str, Any] | None = None,
        channel: str = "CGENERAL",
        container: dict[str, Any] | None = None,
    ) -> tuple[int, float, str]:
        """A button press on ``message`` (a recorded chat.postMessage's args), or in App Home."""
        ts = (message or {}).get("ts", "1700000000.000001")
        block_id = next(
            (
                block.get("block_id", "b")
                for block in (message or {}).get("blocks", [])
                for element in block.get("elements", [])
                if element.get("action_id") == action_id
            ),
            "b",
        )
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower()},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "trigger_id": f"trig.{user}",
            "actions": [
                {
                    "action_id": action_id,
                    "value": value,
                    "type": "button",
                    "block_id": block_id,
                    "action_ts": "1.2",
                }
            ],
        }
        if container is None and message is not None:
            container = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
        payload["container"] = container or {"type": "view", "view_id": "V0001"}
        if message is not None:
            payload["message"] = {**message, "ts": ts}
            payload["channel"] = {"id": channel}
            payload["response_url"] = self.response_url()
        return await self.interact(payload)

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str
    ) -> tuple[int, float, str]:
        """Submit a modal the fake received through views.open."""
        payload = {
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "trigger_id": "trig.submit",
            "view": {**view, "id": "V0001", "state": {"values": values}},
        }
        return await self.interact(payload)

    async def close(self, case_id: str, *, user: str) -> tuple[int, float, str]:
        """Close (cancel) the asker's modal for ``case_id``: Slack's ``view_closed``."""
        payload = {
            "type": "view_closed",
            "user": {"id": user},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "is_cleared": False,
            "view": {
                "id": "V0001",
                "type": "modal",
                "callback_id": "case_amend",
                "private_metadata": json.dumps({"case": case_id}),
                "state": {"values": {}},
            },
        }
        return await self.interact(payload)


def posted_message(call: Any) -> dict[str, Any]:
    """A chat.postMessage call as the message Slack would attach to a button press."""
    result = {"text": call.args.get("text"), "blocks": call.blocks, "ts": call.result.get("ts")}
    if call.args.get("thread_ts"):
        result["thread_ts"] = call.args["thread_ts"]
    return result


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


async def start_slack(
    fake: FakeSlack, real_bot: PolicyBot, data_dir: Path, **extra: str
) -> tuple[Slack, TestClient]:
    settings = slack_settings(data_dir, SLACK_API_URL=fake.api_url, **extra)
    engine = ScriptedEngine(
        real_bot,
        replace(
            settings,
            data_dir=real_bot.settings.data_dir,
            knowledge_dir=real_bot.settings.knowledge_dir,
        ),
    )
    clock = LaterClock()
    assistant = Assistant(engine, Casework.open(settings, clock=clock))  # type: ignore[arg-type]
    app: web.Application = create_app(assistant, [mount])
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Slack(client, fake, assistant, engine, clock), client


@pytest.fixture
async def slack(fake_slack: FakeSlack, real_bot: PolicyBot, tmp_path: Path) -> AsyncIterator[Slack]:
    handle, client = await start_slack(fake_slack, real_bot, tmp_path / "data")
    yield handle
    await fake_slack.settle(0.2)
    await client.close()
    handle.assistant.close()
