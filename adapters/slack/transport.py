"""How Slack's requests reach bolt: ``POST /slack/events`` in aiohttp, or Socket Mode.

HTTP: the body and headers become a :class:`BoltRequest`; ``App.dispatch`` runs on a thread
(it verifies the signature, then waits only for the listener's ``ack()``: the work itself goes
on afterwards on bolt's listener threads), and its :class:`BoltResponse` becomes the aiohttp
response. Socket Mode: bolt's :class:`SocketModeHandler` holds a WebSocket to Slack, opened
when the server starts and closed when it stops; no public URL is needed.

Repeats: Slack retries an event it thinks we missed (``X-Slack-Retry-Num``, in both modes).
A retry is acknowledged and dropped, because its first delivery reached us and is being
answered, unless the reason is ``connection_failed`` (the first never arrived). Event ids
seen are also remembered, so that no event is answered twice by this process.
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

from adapters.slack.refs import Recent
from bot.errors import ConfigError

log = logging.getLogger(__name__)

#: The retry reasons whose first delivery never reached this server.
UNDELIVERED = frozenset({"connection_failed"})


def skip_repeats(seen: Recent) -> Callable[..., BoltResponse]:
    """A bolt middleware that acknowledges retries and repeated events without handling them."""

    # bolt passes the rest of the chain by the name ``next``
    def middleware(
        req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        retry = req.headers.get("x-slack-retry-num")
        reason = next_value(req.headers.get("x-slack-retry-reason"))
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if retry and reason not in UNDELIVERED:
            log.info("acknowledged Slack retry %s (%s) of %s", retry, reason, event_id)
            return BoltResponse(status=200, body="")
        if event_id and not seen.add(event_id):
            log.info("acknowledged repeated event %s", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def next_value(values: object) -> str:
    """The first value of a bolt header (bolt keeps each header as a list)."""
    if isinstance(values, list | tuple):
        return str(values[0]) if values else ""
    return str(values or "")


def http_route(app: App, executor: Executor) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of ``POST /slack/events``."""

    async def slack_events(request: web.Request) -> web.Response:
        headers: dict[str, str | Sequence[str]] = {
            name.lower(): request.headers.getall(name) for name in request.headers
        }
        bolt_request = BoltRequest(
            body=await request.text(), query=request.query_string, headers=headers
        )
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(executor, app.dispatch, bolt_request)
        return web.Response(
            status=response.status,
            body=(response.body or "").encode(),
            headers={name: ", ".join(values) for name, values in response.headers.items()},
        )

    return slack_events


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
