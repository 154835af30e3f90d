"""Wiring: the botbuilder adapter, ``POST /api/messages`` and the turn error handler.

The endpoint checks what botbuilder's own ``CloudAdapter.process`` does not: a body that is
not JSON gets 400 and any token that fails validation gets 401 (botbuilder lets a malformed
or wrongly signed token escape as a 500). The token is validated before the bot sees the
activity, so nothing is ever sent for an unauthenticated call. Microsoft's signing keys are
fetched without blocking the server (:mod:`adapters.teams.signing_keys`); while they cannot
be, a call gets 503 and Teams sends it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes

from adapters.delivery import DELIVERIES
from adapters.teams.bot import TeamsBot
from adapters.teams.notifier import TeamsNotifier
from adapters.teams.sending import send
from adapters.teams.signing_keys import install as use_async_signing_keys
from bot import phrases
from bot.assistant import Assistant
from bot.config import Settings
from bot.errors import ConfigError, PolicyBotError

log = logging.getLogger(__name__)

APOLOGY = f"{phrases.APOLOGY} {phrases.REACH_A_PERSON}"


@dataclass(frozen=True)
class BotConfig:
    """The attributes ``ConfigurationBotFrameworkAuthentication`` reads, named as it reads them."""

    APP_ID: str
    APP_PASSWORD: str = field(repr=False)
    APP_TYPE: str
    APP_TENANTID: str

    @classmethod
    def from_settings(cls, settings: Settings) -> BotConfig:
        """MultiTenant, or SingleTenant when ``MICROSOFT_APP_TENANT_ID`` is set."""
        teams = settings.teams
        tenant = teams.tenant_id
        return cls(
            APP_ID=teams.app_id,
            APP_PASSWORD=teams.app_password,
            APP_TYPE="SingleTenant" if tenant else "MultiTenant",
            APP_TENANTID=tenant,
        )


def mount_teams(
    app: web.Application, assistant: Assistant, *, credentials_factory: Any = None
) -> TeamsNotifier:
    """Add ``POST /api/messages`` to ``app``; see :func:`adapters.teams.mount`."""
    settings = assistant.settings
    config = BotConfig.from_settings(settings)
    if not config.APP_ID:
        if not settings.teams.local_dev:
            raise ConfigError("Teams needs MICROSOFT_APP_ID (or TEAMS_LOCAL_DEV=1 to develop)")
        log.warning(
            "TEAMS AUTHENTICATION IS OFF: MICROSOFT_APP_ID is not set and TEAMS_LOCAL_DEV=1. "
            "Anyone who can reach /api/messages can talk to the bot as anyone. Use this only "
            "on your own machine, with the Bot Framework Emulator or a test client."
        )
    if config.APP_TYPE == "SingleTenant" and not config.APP_PASSWORD:
        raise ConfigError("MICROSOFT_APP_TENANT_ID is set: set MICROSOFT_APP_PASSWORD too")
    use_async_signing_keys()
    auth = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
    adapter = CloudAdapter(auth)
    adapter.on_turn_error = on_turn_error
    notifier = TeamsNotifier(adapter, settings, state=lambda: assistant.state)
    bot = TeamsBot(assistant, notifier, app[DELIVERIES].soon)
    endpoint = MessagesEndpoint(adapter, bot, auth_required=bool(config.APP_ID))
    app.router.add_post("/api/messages", endpoint.handle)
    app.on_startup.append(notifier.start)
    return notifier


class MessagesEndpoint:
    """``POST /api/messages``: parse, authenticate, then run the turn.

    Args:
        adapter: runs turns and sends replies.
        bot: the activity handler.
        auth_required: refuse a call with no bearer token before reading its body.
    """

    def __init__(self, adapter: CloudAdapter, bot: TeamsBot, *, auth_required: bool) -> None:
        self._adapter = adapter
        self._bot = bot
        self._auth_required = auth_required

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one call (aiohttp wants a coroutine function, hence a method)."""
        header = request.headers.get("Authorization", "")
        if self._auth_required and not header.startswith("Bearer "):
            return _refused(request, 401, "no bearer token")
        if request.content_type != "application/json":
            return _refused(request, 415, f"content type {request.content_type!r}")
        try:
            body = await request.json()
            activity = Activity().deserialize(body) if isinstance(body, dict) else None
        except web.HTTPException:  # too large (413): aiohttp's own answer is the right one
            raise
        except Exception as error:  # not JSON, or not an activity: the caller's mistake
            return _refused(request, 400, f"unreadable activity ({type(error).__name__})")
        if activity is None or not activity.type:
            return _refused(request, 400, "not an activity")
        try:
            authenticated = await self._adapter.bot_framework_authentication.authenticate_request(
                activity, header
            )
        except PermissionError as error:  # before OSError: it is one
            return _refused(request, 401, str(error))
        except OSError as error:  # Microsoft's signing keys could not be fetched: try later
            log.error("teams: cannot validate tokens now: %s", type(error).__name__)
            return web.json_response({"error": "cannot validate the token now"}, status=503)
        except Exception as error:  # malformed, wrongly signed, expired, unknown key...
            return _refused(request, 401, f"{type(error).__name__}: {error}")
        invoke = await self._adapter.process_activity(authenticated, activity, self._bot.on_turn)
        if invoke:
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)


def _refused(request: web.Request, status: int, reason: str) -> web.Response:
    log.warning("teams: refused a call from %s (%d): %s", request.remote, status, reason[:200])
    message = {400: "bad request", 401: "unauthorised", 415: "send application/json"}[status]
    return web.json_response({"error": message}, status=status)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log a failed turn and tell the person politely; never show them a traceback."""
    activity = context.activity
    if isinstance(error, PolicyBotError) and error.safe_message:
        log.info("teams: %s: %s", type(error).__name__, error)
        reply = str(error)
    else:
        kind = activity.conversation.conversation_type if activity.conversation else None
        log.error("teams: a %s turn in a %s chat failed", activity.type, kind, exc_info=error)
        reply = APOLOGY
    if activity.type != ActivityTypes.message:
        return  # nobody is waiting for an answer to an install or an update
    try:
        await send(context, reply)
    except Exception:
        log.exception("teams: could not send the apology either")
