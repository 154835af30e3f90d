"""The Slack app (slack-bolt): staff ask, reviewers work their cases, admins reload.

One entry point, :func:`mount`, which ``policybot serve`` calls when ``SLACK_BOT_TOKEN`` is set.
Listeners translate Slack requests into core calls: ``asking`` (mentions, DMs, ``/policy`` and
its commands), ``pressing`` (every button and modal, one listener each), ``home`` (App Home),
``errors`` (the one error handler). Rendering: ``blocks`` (any core message, :mod:`bot.messages`,
as Block Kit), ``forms`` (the core's forms as modals), ``mrkdwn``. Plumbing: ``transport`` (HTTP
and Socket Mode), ``notifier`` (what the outbox delivers), ``refs`` (ids and conversation
references), ``context`` (what listeners share).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from adapters.delivery import DELIVERIES, PlatformNotifier
from adapters.slack import asking, errors, home, pressing
from adapters.slack.context import SlackBot
from adapters.slack.notifier import SlackNotifier
from adapters.slack.transport import connection_check, http_route, skip_repeats, socket_mode
from bot.assistant import Assistant
from bot.config import Settings
from bot.errors import ConfigError
from bot.ops.doctor import Check, failed, ok, skipped

__all__ = ["mount"]

log = logging.getLogger(__name__)

#: Threads for listeners. Each waiting answer holds one; acknowledgements need a free one, so
#: there are more than the concurrent requests Slack sends one workspace's bot.
LISTENER_THREADS = 64
DISPATCH_THREADS = 16
RATE_LIMIT_RETRIES = 2


def mount(web_app: web.Application, assistant: Assistant) -> PlatformNotifier | None:
    """Add Slack to the server: ``POST /slack/events``, or Socket Mode with SLACK_APP_TOKEN.

    Args:
        web_app: the aiohttp application of ``policybot serve``.
        assistant: the core.

    Returns:
        The notifier that posts case cards, replies and reminders in Slack.

    Raises:
        ConfigError: ``SLACK_SIGNING_SECRET`` is missing in HTTP mode.
    """
    slack = assistant.settings.slack  # ConfigError, naming the variable, if it cannot work
    app_token, secret = slack.app_token, slack.signing_secret
    client = WebClient(token=slack.bot_token, base_url=slack.api_url or WebClient.BASE_URL)
    # A call Slack answers with 429 is made again after its Retry-After (twice at most).
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    listeners = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="slack-listener")
    app = App(
        client=client,
        signing_secret=secret or None,
        # auth.test is asked on the first request instead (and logged at start-up), so that
        # building the server needs no network.
        token_verification_enabled=False,
        request_verification_enabled=not app_token,
        listener_executor=listeners,
        logger=logging.getLogger("slack_bolt"),
    )
    notifier = SlackNotifier(
        client,
        {
            "hr": slack.hr_channel,
            "communications": slack.comms_channel,
        },
        sla_hours=assistant.settings.sla_hours,
        state=lambda: assistant.state,
        announce_channel=slack.announce_channel,
    )
    bot = SlackBot(assistant, notifier, deliver_soon=web_app[DELIVERIES].soon)
    app.use(skip_repeats(assistant))
    asking.register(app, bot)
    pressing.register(app, bot)
    home.register(app, bot)
    errors.register(app)

    web_app.cleanup_ctx.append(connection_check(app))
    if app_token:
        web_app.cleanup_ctx.append(socket_mode(app, app_token))
    else:
        dispatchers = ThreadPoolExecutor(DISPATCH_THREADS, thread_name_prefix="slack-dispatch")
        route = http_route(app, dispatchers, assistant, signing_secret=secret)
        web_app.router.add_post("/slack/events", route)
        web_app.on_cleanup.append(lambda _app: _shutdown(dispatchers))
    web_app.on_cleanup.append(lambda _app: _shutdown(listeners))
    log.info("Slack mounted (%s)", "Socket Mode" if app_token else "POST /slack/events")
    return notifier


async def _shutdown(*executors: ThreadPoolExecutor) -> None:
    for executor in executors:
        executor.shutdown(wait=False, cancel_futures=True)


def doctor_check(settings: Settings) -> Check:
    """``policybot doctor``: does Slack accept the bot token (``auth.test``)?"""
    if "slack" not in settings.platforms:
        return skipped("slack", "not configured (no SLACK_BOT_TOKEN)")
    try:
        slack = settings.slack
    except ConfigError as exc:
        return failed("slack", str(exc), "set that variable")
    base_url = slack.api_url or WebClient.BASE_URL
    try:
        who = WebClient(token=slack.bot_token, base_url=base_url, timeout=10).auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        return failed("slack", f"auth.test says {error}", "check SLACK_BOT_TOKEN")
    except OSError as exc:
        return failed(
            "slack", f"cannot reach {base_url}: {exc}", "check the network or HTTPS_PROXY"
        )
    mode = "Socket Mode" if slack.socket_mode else "HTTP events"
    return ok("slack", f"connected as {who.get('user')} in {who.get('team')} ({mode})")
