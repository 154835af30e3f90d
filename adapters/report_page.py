"""``GET /insights/{token}``: the full insights report an admin's digest links to.

The token is the key (:mod:`bot.ops.digest`): an unknown or expired one gets 404, and the page
is never cached, indexed or sent on as a referrer. The page is drawn afresh from the
database on a worker thread, by whichever instance the request reaches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.assistant import Assistant
from bot.errors import PolicyBotError

log = logging.getLogger(__name__)

GONE = (
    "This insights link is unknown or has expired. Open PolicyBot's App Home in Slack, or "
    "type insights to PolicyBot in Teams, for a new one."
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    # The page needs nothing from anywhere: no script runs, no resource loads.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


def report_route(assistant: Assistant) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of ``GET /insights/{token}`` for ``assistant``."""

    async def report_page(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            page = await asyncio.to_thread(lambda: assistant.reports.page(token))
        except PolicyBotError as exc:
            log.warning("insights page unavailable: %s", exc)
            return web.Response(status=503, text=str(exc), headers=HEADERS)
        if page is None:
            log.info("insights page: an unknown or expired link was opened")
            return web.Response(status=404, text=GONE, headers=HEADERS)
        return web.Response(text=page, content_type="text/html", headers=HEADERS)

    return report_page
