"""How Slack's requests reach bolt: ``POST /slack/events`` in aiohttp, or Socket Mode.

HTTP: the body and headers become a :class:`BoltRequest`; ``App.dispatch`` runs on a thread
(it verifies the signature, then waits only for the listener's ``ack()``: the work itself goes
on afterwards on bolt's listener threads), and its :class:`BoltResponse` becomes the aiohttp
response. Socket Mode: bolt's :class:`SocketModeHandler` holds a WebSocket to Slack, opened
when the server starts and closed when it stops; no public URL is needed.

Repeats: Slack retries an event it thinks we missed (``X-Slack-Retry-Num``, in both modes).
Whatever the retry's reason, it is handled like a first delivery: dropped (acknowledged) only
when its event id is already recorded, that is when an earlier delivery reached an instance
(this one or another on the same database, before a restart too) and was accepted. The core
decides (:meth:`Assistant.first_delivery`), from the platform state every instance shares. An HTTP
delivery we answered with a 5xx is forgotten again, so that Slack's retry (reason
``http_error``) gets the answer the first one could not. When the state cannot be written
(the database is down), the event is answered: a rare second answer is better than a lost
question.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Executor

from aiohttp import web
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from adapters.slack.refs import PLATFORM
from bot.assistant import Assistant
from bot.errors import ConfigError

log = logging.getLogger(__name__)


def skip_repeats(assistant: Assistant) -> Callable[..., BoltResponse]:
    """A bolt middleware that acknowledges repeated events without handling them."""

    # bolt passes the rest of the chain by the name ``next``
    def middleware(
        req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        retry = req.headers.get("x-slack-retry-num")
        reason = next_value(req.headers.get("x-slack-retry-reason"))
        event_id = event_of(req)
        if not assistant.first_delivery(PLATFORM, event_id):
            log.info("acknowledged repeated event %s (retry %s, %s)", event_id, retry, reason)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def event_of(req: BoltRequest) -> str:
    """What identifies a delivery, so that a repeat is recognised: the event id of an Events
    API request, or the trigger id of a slash command (unique to each time it is typed, so a
    signed request replayed within Slack's five minutes is not answered twice); else ""."""
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("event_id"):
        return str(body["event_id"])
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return ""


def next_value(values: object) -> str:
    """The first value of a bolt header (bolt keeps each header as a list)."""
    if isinstance(values, list | tuple):
        return str(values[0]) if values else ""
    return str(values or "")


def http_route(
    app: App, executor: Executor, assistant: Assistant, *, signing_secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of ``POST /slack/events``; an event we failed (5xx) is forgotten
    (:meth:`Assistant.delivery_failed`), so that Slack's retry is handled.

    The signature is checked before the body is read as JSON or a form, so that nobody
    without the signing secret can make the server parse anything (or fill its log): an
    unsigned request gets 401, a signed one that is not Slack's shape 400, each logged in a
    line without a traceback.
    """
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        body = raw.decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {
            name.lower(): request.headers.getall(name) for name in request.headers
        }
        if not verifier.is_valid_request(body, {k: next_value(v) for k, v in headers.items()}):
            log.warning("refused a Slack request from %s: bad or missing signature", request.remote)
            return web.Response(status=401)
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # signed, not Slack's
            log.warning("refused a signed Slack request that bolt cannot read: %s", exc)
            return web.Response(status=400)
        if not isinstance(bolt_request.body, dict):
            log.warning("refused a signed Slack request whose body is not an object")
            return web.Response(status=400)
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(executor, app.dispatch, bolt_request)
        except BaseException:
            _forget(assistant, bolt_request)
            raise
        if response.status >= 500:
            _forget(assistant, bolt_request)
        return web.Response(
            status=response.status,
            body=(response.body or "").encode(),
            headers={name: ", ".join(values) for name, values in response.headers.items()},
        )

    return slack_events


def _forget(assistant: Assistant, req: BoltRequest) -> None:
    assistant.delivery_failed(PLATFORM, event_of(req))


def connection_check(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """Ask Slack who the bot is at start-up, so that a bad token shows in the log at once."""

    async def check(_web_app: web.Application) -> AsyncIterator[None]:
        try:
            who = await asyncio.get_running_loop().run_in_executor(None, app.client.auth_test)
            log.warning("Slack: connected as %s in %s", who.get("user"), who.get("team"))
        except SlackApiError as exc:
            log.error(
                "Slack: auth.test failed (%s): check SLACK_BOT_TOKEN", exc.response.get("error")
            )
        except OSError as exc:
            log.error("Slack: cannot reach the Web API: %s", exc)
        yield

    return check


def socket_mode(app: App, app_token: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """Connect to Slack over Socket Mode while the aiohttp server runs."""

    async def connected(_web_app: web.Application) -> AsyncIterator[None]:
        handler = SocketModeHandler(app, app_token=app_token)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, handler.connect)
        except (SlackApiError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
            raise ConfigError(
                f"Slack Socket Mode could not connect ({error}): check SLACK_APP_TOKEN"
            ) from None
        log.warning("Slack: Socket Mode connected")
        try:
            yield
        finally:
            await loop.run_in_executor(None, handler.close)

    return connected
