"""``policybot serve``: the bot's one HTTP server (aiohttp).

Routes: ``GET /healthz``, ``GET /metrics`` (Prometheus), ``POST /admin/reload`` (bearer
``POLICYBOT_ADMIN_TOKEN``), ``GET /insights/{token}`` (the full report an admin's digest links
to, :mod:`adapters.report_page`), and whatever the chat platforms mount: ``POST /slack/events``
(``adapters.slack``) and ``POST /api/messages`` (``adapters.teams``). Escalation
notifications (the outbox) and SLA reminders are delivered through the platforms' notifiers
(:mod:`adapters.delivery`): right after the step that queues them, and by a background task
every :data:`TICK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from aiohttp import web

from adapters.delivery import DELIVERIES, Deliveries, PlatformNotifier
from adapters.report_page import report_route
from bot.assistant import Assistant
from bot.errors import PolicyBotError, ReloadInProgressError
from bot.ops.admin import UNAUTHORISED, may_reload
from bot.ops.health import check_health
from bot.ops.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)


ASSISTANT = web.AppKey("assistant", Assistant)
NOTIFIERS: web.AppKey[list[PlatformNotifier]] = web.AppKey("notifiers")

#: Seconds between two deliveries of the outbox (and SLA checks).
TICK_SECONDS = 20.0


Mount = Callable[[web.Application, Assistant], "PlatformNotifier | None"]


def platform_mounts(assistant: Assistant) -> list[Mount]:
    """The chat platforms whose credentials are set, as functions that add their routes."""
    settings = assistant.settings
    mounts: list[Mount] = []
    if "slack" in settings.platforms:
        from adapters.slack import mount as mount_slack

        mounts.append(mount_slack)
    if "teams" in settings.platforms:
        from adapters.teams import mount as mount_teams

        mounts.append(mount_teams)
    return mounts


def create_app(
    assistant: Assistant, mounts: Sequence[Mount] = (), *, deliver_at_once: bool = True
) -> web.Application:
    """The aiohttp application, with each platform in ``mounts`` added.

    Args:
        assistant: the core.
        mounts: the chat platforms to add (:func:`platform_mounts`).
        deliver_at_once: deliver notifications right after the step that queues them, as
            well as every :data:`TICK_SECONDS` (tests that deliver by hand turn it off).
    """
    app = web.Application(client_max_size=1024 * 1024)
    app[ASSISTANT] = assistant
    deliveries = Deliveries(assistant, at_once=deliver_at_once)
    app[DELIVERIES] = deliveries
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/admin/reload", admin_reload)
    app.router.add_get("/insights/{token}", report_route(assistant))
    notifiers = [n for n in (mount(app, assistant) for mount in mounts) if n is not None]
    deliveries.notifiers[:] = notifiers
    app[NOTIFIERS] = notifiers
    if notifiers:
        app.cleanup_ctx.append(_deliveries)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 with the knowledge version and database status; 503 if either is unusable."""
    assistant = request.app[ASSISTANT]
    health = await asyncio.get_running_loop().run_in_executor(
        None, check_health, assistant.engine, assistant.check_database
    )
    return web.json_response(health.body, status=200 if health.healthy else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics of this instance (the outbox backlog is read from the database)."""
    assistant = request.app[ASSISTANT]
    body = await asyncio.get_running_loop().run_in_executor(None, assistant.metrics.exposition)
    return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})


async def admin_reload(request: web.Request) -> web.Response:
    """Reload the documents; bearer ``POLICYBOT_ADMIN_TOKEN``; one reload at a time, on
    every instance (the core's lease: 409 while another runs)."""
    assistant = request.app[ASSISTANT]
    if not may_reload(assistant.settings, request.headers.get("Authorization", "")):
        log.warning("refused /admin/reload from %s: bad or missing token", request.remote)
        return web.json_response({"error": UNAUTHORISED}, status=401)
    loop = asyncio.get_running_loop()
    try:
        report = await loop.run_in_executor(None, assistant.reload)
    except ReloadInProgressError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    except PolicyBotError as exc:
        log.error("reload failed: %s", exc)
        return web.json_response({"error": str(exc)}, status=422)
    return web.json_response({**report.to_json(), "summary": report.summary()})


async def _deliveries(app: web.Application) -> AsyncIterator[None]:
    """Deliver the outbox and SLA reminders every TICK_SECONDS while the server runs."""
    deliveries = app[DELIVERIES]

    async def loop() -> None:
        while True:
            try:
                running = asyncio.get_running_loop()
                result = await running.run_in_executor(None, deliveries.tick)
                if result.sent or result.failed:
                    log.info("deliveries: %s", result)
            except Exception as exc:  # one bad tick must not end deliveries for good
                # A warning per tick, not a traceback: a database outage lasts many ticks.
                log.warning("delivering notifications failed (%s); retrying next tick", exc)
            await asyncio.sleep(TICK_SECONDS)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    deliveries.close()


def serve(assistant: Assistant, *, host: str, port: int) -> None:
    """Run the server until interrupted."""
    mounts = platform_mounts(assistant)
    if assistant.settings.teams.unauthenticated:  # loopback only
        from adapters.teams import check_local_dev_host

        check_local_dev_host(assistant.settings, host)
    app = create_app(assistant, mounts)
    log.info("PolicyBot serving on http://%s:%d", host, port)
    web.run_app(app, host=host, port=port, print=None)
