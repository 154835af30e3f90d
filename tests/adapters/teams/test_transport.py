"""The Bot Framework endpoint: tokens, bad requests, retries to the connector, turn errors,
and the local development mode.

Token validation runs botbuilder's own code against a local OpenID endpoint (a thread on
127.0.0.1 serving the metadata and one trusted RSA key, :mod:`tests.adapters.teams.openid`):
``ChannelValidation`` reads the URL of that endpoint from its ``open_id_metadata_endpoint``
attribute, which botbuilder provides to override Microsoft's; the keys are fetched by
:mod:`adapters.teams.signing_keys`. The bot's own sign-in to Microsoft Entra (for its
outgoing calls) is replaced by a credentials factory that signs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from botframework.connector.auth import (
    ChannelValidation,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from cryptography.hazmat.primitives.asymmetric import rsa

import adapters.server as server
from adapters.teams import check_local_dev_host, mount, signing_keys
from adapters.teams.app import APOLOGY
from adapters.teams.sending import ATTEMPTS, retry_after, retryable
from bot.assistant import Assistant
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import ConfigError
from tests.adapters.teams.conftest import Teams, card_text, start_teams
from tests.adapters.teams.openid import APP_ID, OpenIdEndpoint, token

# --- authenticated mode ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """The key Teams signs with (the bot trusts it) and a key nobody trusts."""
    return {
        "trusted": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rogue": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


@pytest.fixture
def openid(keys: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenIdEndpoint]:
    endpoint = OpenIdEndpoint(keys["trusted"])
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", endpoint.url)
    yield endpoint
    endpoint.close()


@pytest.fixture
def slow_openid(keys: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenIdEndpoint]:
    """A key endpoint that holds every request until the test releases it."""
    endpoint = OpenIdEndpoint(keys["trusted"], hold=True)
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", endpoint.url)
    yield endpoint
    endpoint.close()


class UnsignedCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """The bot's identity without a sign-in to Microsoft Entra: calls go out unsigned."""

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id: str, *args: Any, **kwargs: Any) -> Any:
        return MicrosoftAppCredentials.empty()


@pytest.fixture(scope="session")
def secured_engine(teams_engine: PolicyBot) -> PolicyBot:
    extra = {**teams_engine.settings.extra, "MICROSOFT_APP_ID": APP_ID}
    extra.pop("TEAMS_LOCAL_DEV")
    extra["MICROSOFT_APP_PASSWORD"] = "not-a-real-secret"
    return PolicyBot(replace(teams_engine.settings, extra=extra))


def start_secured(engine: PolicyBot, data_dir: Path) -> AsyncIterator[Teams]:
    """The bot with an app id: every call needs a valid Bot Framework token."""
    signing = partial(mount, credentials_factory=UnsignedCredentials())
    return start_teams(engine, data_dir, mount_teams=signing)


@pytest.fixture
async def secured(
    secured_engine: PolicyBot, openid: OpenIdEndpoint, tmp_path: Path
) -> AsyncIterator[Teams]:
    async for running in start_secured(secured_engine, tmp_path):
        yield running


@pytest.fixture
async def slowly_secured(
    secured_engine: PolicyBot, slow_openid: OpenIdEndpoint, tmp_path: Path
) -> AsyncIterator[Teams]:
    async for running in start_secured(secured_engine, tmp_path):
        yield running


async def test_a_call_signed_by_teams_is_answered(
    secured: Teams, keys: dict[str, Any], openid: OpenIdEndpoint
) -> None:
    bearer = f"Bearer {token(keys['trusted'], secured.service_url)}"
    activity = secured.activity("How long are quarantined emails kept?")
    response = await secured.post(activity, headers={"Authorization": bearer})
    assert response.status == 201
    assert "30 days" in card_text(secured.connector.sent()[0].card)
    assert openid.requests  # the keys were fetched from the local endpoint


async def test_a_call_without_a_token_is_refused(secured: Teams, openid: OpenIdEndpoint) -> None:
    response = await secured.post(secured.activity("Can I use Facebook at lunchtime?"))
    assert response.status == 401
    assert secured.connector.calls == [] and openid.requests == []


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "bearer x.y.z"],
)
async def test_a_malformed_token_is_refused(secured: Teams, header: str) -> None:
    activity = secured.activity("Can I use Facebook at lunchtime?")
    response = await secured.post(activity, headers={"Authorization": header})
    assert response.status == 401
    assert secured.connector.calls == []


@pytest.mark.parametrize(
    "key, audience, kid",
    [
        ("rogue", APP_ID, "trusted"),  # signed with a key the bot does not trust
        ("rogue", APP_ID, "rogue"),  # ... naming a key the bot has never seen
        ("trusted", "another-bot", "trusted"),  # a good token, for another bot
    ],
)
async def test_a_token_that_fails_validation_is_refused(
    secured: Teams,
    keys: dict[str, Any],
    openid: OpenIdEndpoint,
    key: str,
    audience: str,
    kid: str,
) -> None:
    bearer = f"Bearer {token(keys[key], secured.service_url, audience=audience, kid=kid)}"
    activity = secured.activity("Can I use Facebook at lunchtime?")
    response = await secured.post(activity, headers={"Authorization": bearer})
    assert response.status == 401
    assert secured.connector.calls == []
    assert openid.requests  # refused by validation against the trusted keys, not before


# --- Microsoft's signing keys ---------------------------------------------------------------


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Let the event loop run until ``condition`` holds (a frozen loop fails it, late)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_slow_key_endpoint_holds_up_only_the_call_that_needs_the_keys(
    slowly_secured: Teams, keys: dict[str, Any], slow_openid: OpenIdEndpoint
) -> None:
    teams = slowly_secured
    bearer = f"Bearer {token(keys['trusted'], teams.service_url)}"
    activity = teams.activity("How long are quarantined emails kept?")
    call = asyncio.create_task(teams.post(activity, headers={"Authorization": bearer}))
    await _until(slow_openid.received.is_set, "the key fetch reached the endpoint")

    health = await teams.client.get("/healthz")
    # /healthz answered while the key endpoint still held the fetch, the Teams call waiting.
    assert health.status == 200 and slow_openid.holding and not call.done()

    slow_openid.release()
    response = await call
    assert response.status == 201
    assert "30 days" in card_text(teams.connector.sent()[0].card)


async def test_keys_that_cannot_be_fetched_in_time_give_503_until_they_can(
    slowly_secured: Teams,
    keys: dict[str, Any],
    slow_openid: OpenIdEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(signing_keys, "FETCH_TIMEOUT", 0.5)
    monkeypatch.setattr(signing_keys, "RETRY_AFTER_FAILURE", 0.0)
    bearer = {"Authorization": f"Bearer {token(keys['trusted'], slowly_secured.service_url)}"}
    activity = slowly_secured.activity("How long are quarantined emails kept?")

    assert (await slowly_secured.post(activity, headers=bearer)).status == 503
    assert slowly_secured.connector.calls == []
    slow_openid.release()  # Microsoft answers again: so do we, without a restart
    assert (await slowly_secured.post(activity, headers=bearer)).status == 201


async def test_unknown_key_ids_refresh_the_keys_at_most_every_five_minutes(
    keys: dict[str, Any],
) -> None:
    endpoint = OpenIdEndpoint(keys["trusted"])
    now = [0.0]
    try:
        signing = signing_keys.SigningKeys(endpoint.url, clock=lambda: now[0])
        assert (await signing.get("trusted")).endorsements == ["msteams"]
        for advance in (1.0, 60.0, signing_keys.UNKNOWN_KEY_INTERVAL, 1.0, 60.0):
            now[0] += advance
            with pytest.raises(signing_keys.UnknownSigningKeyError):
                await signing.get("made-up")
        # The first fetch, and one refresh once five minutes had passed: not one per token.
        assert signing.fetches == 2 and len(endpoint.requests) == 4
        assert (await signing.get("trusted")).public_key is not None
        assert signing.fetches == 2
    finally:
        endpoint.close()


# --- bad requests, retries and turn errors ---------------------------------------------------


@pytest.mark.parametrize(
    "body, status",
    [(b"{not json", 400), (b"[1, 2]", 400), (b'{"text": "no type"}', 400), (b"\xff\xfe", 400)],
)
async def test_a_body_that_is_not_an_activity_gets_400(
    teams: Teams, body: bytes, status: int
) -> None:
    headers = {"Content-Type": "application/json"}
    response = await teams.client.post("/api/messages", data=body, headers=headers)
    assert response.status == status
    assert teams.connector.calls == []


async def test_a_body_over_a_megabyte_gets_413(teams: Teams) -> None:
    huge = teams.activity("x" * 1_100_000)
    assert (await teams.post(huge)).status == 413
    assert teams.connector.calls == []


async def test_a_body_that_is_not_json_at_all_gets_415(teams: Teams) -> None:
    response = await teams.client.post("/api/messages", data=b"hello")
    assert response.status == 415


@pytest.mark.parametrize("status, retry_after, wait", [(429, "1", 1.0), (503, None, 0.5)])
async def test_a_throttled_or_failed_reply_is_sent_again(
    teams: Teams, status: int, retry_after: str | None, wait: float
) -> None:
    teams.connector.fail_next("message", status, retry_after=retry_after)
    await teams.say("How long are quarantined emails kept?")
    refused, accepted = teams.connector.attempts()
    assert (refused.status, accepted.status) == (status, 200)
    assert accepted.at - refused.at >= wait * 0.9  # Retry-After, or the backoff, was honoured
    assert "30 days" in card_text(accepted.card)


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    class Response:
        def __init__(self, value: str) -> None:
            self.status_code, self.headers = 429, {"Retry-After": value}

    class Throttled(Exception):
        def __init__(self, value: str) -> None:
            self.response = Response(value)

    assert retry_after(Throttled("3")) == 3.0
    in_five = formatdate(time.time() + 5, usegmt=True)
    assert 3.5 < (retry_after(Throttled(in_five)) or 0) <= 5.0
    assert retry_after(Throttled("soon")) is None
    assert retryable(Throttled("1")) and not retryable(ValueError())


async def test_retries_are_bounded(teams: Teams) -> None:
    teams.connector.fail_next("message", 503, times=100, retry_after="0")
    await teams.say("How long are quarantined emails kept?")
    # The answer, then the apology, each tried ATTEMPTS times and no more.
    assert len(teams.connector.attempts()) == 2 * ATTEMPTS


async def test_a_failing_turn_gets_a_polite_reply_and_no_traceback(
    teams: Teams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(question: Any) -> Any:
        raise RuntimeError("disk /var/secret is on fire")

    monkeypatch.setattr(teams.assistant, "ask", broken)
    with caplog.at_level(logging.ERROR, logger="adapters.teams"):
        await teams.say("Can I use Facebook at lunchtime?")
    [reply] = teams.connector.sent()
    assert reply.text == APOLOGY
    assert "RuntimeError" not in reply.text and "secret" not in reply.text
    assert any(record.exc_info for record in caplog.records)  # the log keeps the traceback


# --- local development mode ------------------------------------------------------------------


async def test_local_development_mode_warns_loudly(
    teams: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = [r.getMessage() for r in caplog.get_records("setup") if r.levelname == "WARNING"]
    assert any("TEAMS AUTHENTICATION IS OFF" in message for message in warnings)


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("bot.example.gov.uk", False),
    ],
)
def test_local_development_mode_listens_on_loopback_only(host: str, allowed: bool) -> None:
    local = Settings(extra={"TEAMS_LOCAL_DEV": "1"})
    if allowed:
        check_local_dev_host(local, host)
    else:
        with pytest.raises(ConfigError, match="loopback"):
            check_local_dev_host(local, host)
    check_local_dev_host(
        Settings(extra={"TEAMS_LOCAL_DEV": "1", "TEAMS_ALLOW_REMOTE_DEV": "1"}), host
    )
    check_local_dev_host(Settings(extra={"MICROSOFT_APP_ID": APP_ID}), host)


async def test_serve_refuses_a_public_host_in_local_development_mode(teams: Teams) -> None:
    with pytest.raises(ConfigError, match="TEAMS_ALLOW_REMOTE_DEV"):
        server.serve(teams.assistant, host="0.0.0.0", port=1)


def test_teams_is_not_mounted_without_an_app_id_or_local_development_mode(
    real_bot: PolicyBot,
) -> None:
    with pytest.raises(ConfigError, match="MICROSOFT_APP_ID"):
        mount(web.Application(), Assistant(real_bot, None))
