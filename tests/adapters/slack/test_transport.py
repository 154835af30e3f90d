"""How requests reach the bot: signatures, retries, quick acknowledgements, Socket Mode."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.listener.thread_runner import ThreadListenerRunner

from adapters.slack import doctor_check, mount
from bot.engine import PolicyBot
from bot.errors import ConfigError
from bot.models import Answer, Question
from tests.adapters.slack.conftest import STAFF, Slack, slack_settings, start_slack
from tests.adapters.slack.fake_slack import APP_TOKEN, BOT_USER, FakeSlack

MENTION = {
    "type": "app_mention",
    "user": STAFF,
    "text": f"<@{BOT_USER}> Can I use Facebook at lunch?",
    "ts": "1.000001",
    "channel": "CGENERAL",
    "event_ts": "1.000001",
}


async def test_bad_and_stale_signatures_are_refused(slack: Slack) -> None:
    body = slack.event_body(MENTION)
    assert [c.method for c in slack.fake.calls] == ["auth.test"]  # the start-up check
    assert (await slack.post(body, "application/json", secret="not-the-secret"))[0] == 401
    stale = int(time.time()) - 6 * 60
    assert (await slack.post(body, "application/json", timestamp=stale))[0] == 401
    async with slack.client.post("/slack/events", data=body) as unsigned:
        assert unsigned.status == 401
    await slack.fake.settle()
    assert [c.method for c in slack.fake.calls] == ["auth.test"]  # nothing was handled
    assert (await slack.post(body, "application/json"))[0] == 200  # the same body, signed
    await slack.fake.wait_for("chat.postMessage")


async def test_url_verification_echoes_the_challenge(slack: Slack) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    status, _, text = await slack.post(body, "application/json")
    assert status == 200 and json.loads(text) == {"challenge": "c-123"}


async def test_retries_and_repeats_never_give_a_second_answer(slack: Slack) -> None:
    body = slack.event_body(MENTION, event_id="EvSAME")
    assert (await slack.post(body, "application/json"))[0] == 200
    for n, reason in ((1, "http_timeout"), (2, "http_error"), (3, "unknown_error")):
        headers = {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": reason}
        assert (await slack.post(body, "application/json", headers=headers))[0] == 200
    assert (await slack.post(body, "application/json"))[0] == 200  # the same event id again
    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle(0.5)
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_a_retry_of_an_event_that_never_arrived_is_answered(slack: Slack) -> None:
    body = slack.event_body(MENTION, event_id="EvLOST")
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "connection_failed"}
    assert (await slack.post(body, "application/json", headers=headers))[0] == 200
    assert (
        await slack.post(body, "application/json", headers={**headers, "X-Slack-Retry-Num": "2"})
    )[0] == 200
    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle(0.5)
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_a_slow_answer_does_not_delay_the_acknowledgement(slack: Slack) -> None:
    def slow(question: Question) -> Answer:
        time.sleep(4)  # longer than Slack's 3 seconds
        return slack.engine.real.ask(question)

    slack.engine.script = slow
    sent = time.perf_counter()
    status, mention_ack, _ = await slack.event(MENTION)
    assert status == 200
    status, command_ack, _ = await slack.command("Can I use Facebook at lunch?")
    assert status == 200
    assert mention_ack < 1.0 and command_ack < 1.0
    (answer,) = await slack.fake.wait_for("chat.postMessage", timeout=20)
    assert "lunch" in answer.text and answer.at - sent > 3.5  # the work went on after the ack
    await slack.fake.wait_for("response_url", timeout=20)


async def test_socket_mode_connects_and_acknowledges_envelopes(
    fake_slack: FakeSlack, real_bot: PolicyBot, tmp_path: Path
) -> None:
    handle, client = await start_slack(fake_slack, real_bot, tmp_path, SLACK_APP_TOKEN=APP_TOKEN)
    try:
        (opened,) = await fake_slack.wait_for("apps.connections.open")
        assert opened.args["_token"] == APP_TOKEN  # the app-level token opens the socket
        async with client.post("/slack/events", data="{}") as resp:
            assert resp.status == 404  # no public endpoint in Socket Mode
        envelope = {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": json.loads(handle.event_body(MENTION)),
        }
        await fake_slack.socket_send(envelope)
        (answer,) = await fake_slack.wait_for("chat.postMessage")
        assert answer.args["thread_ts"] == MENTION["ts"] and "lunch" in answer.text
        assert {"envelope_id": "env-1"} in fake_slack.socket_acks
        retried = {
            **envelope,
            "envelope_id": "env-2",
            "retry_attempt": 1,
            "retry_reason": "timeout",
        }
        await fake_slack.socket_send(retried)
        for _ in range(100):
            if {"envelope_id": "env-2"} in fake_slack.socket_acks:
                break
            await asyncio.sleep(0.05)
        assert {"envelope_id": "env-2"} in fake_slack.socket_acks  # acknowledged, not answered
        await fake_slack.settle(0.5)
        assert len(fake_slack.of("chat.postMessage")) == 1
    finally:
        await client.close()
        handle.assistant.close()


async def test_socket_mode_with_a_bad_app_token_fails_at_start(
    fake_slack: FakeSlack, real_bot: PolicyBot, tmp_path: Path
) -> None:
    fake_slack.errors["apps.connections.open"] = "invalid_auth"
    with pytest.raises(ConfigError, match=r"Socket Mode could not connect \(invalid_auth\)"):
        await start_slack(fake_slack, real_bot, tmp_path, SLACK_APP_TOKEN=APP_TOKEN)


def test_http_mode_needs_the_signing_secret(tmp_path: Path) -> None:
    assistant = SimpleNamespace(settings=slack_settings(tmp_path, SLACK_SIGNING_SECRET=""))
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        mount(web.Application(), assistant)  # type: ignore[arg-type]


async def test_a_retry_after_we_failed_the_first_delivery_is_answered_once(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = ThreadListenerRunner.run
    failures: list[int] = []

    def fail_once(self: ThreadListenerRunner, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("our side failed")
        return real_run(self, **kwargs)

    monkeypatch.setattr(ThreadListenerRunner, "run", fail_once)
    body = slack.event_body(MENTION, event_id="EvFAILED")
    assert (await slack.post(body, "application/json"))[0] == 500  # Slack will retry
    for n in (1, 2):
        headers = {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_error"}
        assert (await slack.post(body, "application/json", headers=headers))[0] == 200

    def answered(call: Any) -> bool:
        return "Sorry, something went wrong" not in call.text  # not the failure's apology

    await slack.fake.wait_for("chat.postMessage", answered)
    await slack.fake.settle(0.5)
    assert len(slack.fake.of("chat.postMessage", answered)) == 1  # the 2nd retry: a repeat


async def test_doctor_checks_the_token_with_auth_test(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    good = slack_settings(tmp_path, SLACK_API_URL=fake_slack.api_url)
    loop = asyncio.get_running_loop()

    passed = await loop.run_in_executor(None, doctor_check, good)
    fake_slack.errors["auth.test"] = "invalid_auth"
    refused = await loop.run_in_executor(None, doctor_check, good)

    assert passed.status == "ok" and "connected as policybot in Council" in passed.detail
    assert refused.status == "failed" and "invalid_auth" in refused.detail
    assert refused.fix == "check SLACK_BOT_TOKEN"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("payload=%7Bnot%20json", "application/x-www-form-urlencoded"),
        ("\x00\x01\x02 binary", "application/octet-stream"),
    ],
)
async def test_a_malformed_body_is_refused_without_a_traceback(
    slack: Slack, body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    unsigned_status = (await slack.post(body, content_type, secret="not-the-secret"))[0]
    status, _, _ = await slack.post(body, content_type)

    assert unsigned_status == 401  # refused before anything is parsed
    assert 400 <= status < 500
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]


async def test_a_replayed_slash_command_is_answered_once(slack: Slack) -> None:
    form = urllib.parse.urlencode(
        {
            "team_id": "T0001",
            "channel_id": "CGENERAL",
            "user_id": STAFF,
            "command": "/policy",
            "text": "Can I use Facebook at lunchtime?",
            "response_url": slack.response_url(),
            "trigger_id": "trig.replayed",
        }
    )
    first = await slack.post(form, "application/x-www-form-urlencoded")
    replay = await slack.post(form, "application/x-www-form-urlencoded")  # signed, within 5 min

    assert first[0] == replay[0] == 200
    await slack.fake.wait_for("response_url")
    await slack.fake.settle()
    assert len(slack.fake.of("response_url")) == 1
