"""Microsoft Teams: PolicyBot as a Bot Framework bot, with Adaptive Cards and case cards.

Every botbuilder import is inside this package, so a move to the Microsoft 365 Agents SDK
touches nothing else (see the README). Importing the package is cheap: botbuilder loads when
:func:`mount` is called, so the CLI can import :mod:`adapters.teams.package` at start-up.

Modules: ``app`` (adapter, ``POST /api/messages``, turn errors), ``bot`` (the activity
handler and its commands), ``actions`` (card buttons), ``cards`` (the one renderer: the core's
messages as Adaptive Cards), ``notifier`` (case notifications and announcements), ``identity``
(people and conversation references), ``sending`` (retries, typing and proactive turns),
``signing_keys`` (Microsoft's token keys, fetched without blocking), ``package`` (the Teams app
package, with the icons committed in ``manifest/teams/``).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.errors import ConfigError
from bot.ops.doctor import Check, failed, ok, skipped

if TYPE_CHECKING:
    from aiohttp import web

    from adapters.teams.notifier import TeamsNotifier
    from bot.assistant import Assistant

__all__ = ["check_local_dev_host", "mount"]


def mount(
    app: web.Application, assistant: Assistant, *, credentials_factory: Any = None
) -> TeamsNotifier:
    """Add ``POST /api/messages`` to ``app`` and return the Teams notifier.

    With ``MICROSOFT_APP_ID`` set, every call must carry a valid Bot Framework token. Without
    it, ``TEAMS_LOCAL_DEV=1`` must be set, and authentication is off (a loud warning is logged).

    Args:
        app: the server's aiohttp application.
        assistant: the core the bot translates to.
        credentials_factory: how the bot signs its own calls to Teams; default: from
            ``MICROSOFT_APP_ID``/``MICROSOFT_APP_PASSWORD`` (tests pass one that needs no
            Microsoft Entra sign-in).

    Raises:
        ConfigError: neither an app id nor local development mode, or botbuilder is missing.
    """
    try:
        from adapters.teams.app import mount_teams
    except ImportError as exc:  # as httpx does: say what to install
        raise ConfigError(
            f"Teams needs botbuilder ({exc}): "
            "pip install botbuilder-core botbuilder-integration-aiohttp"
        ) from exc
    return mount_teams(app, assistant, credentials_factory=credentials_factory)


def check_local_dev_host(settings: Settings, host: str) -> None:
    """Refuse to serve unauthenticated Teams traffic beyond this machine.

    In local development mode (``TEAMS_LOCAL_DEV=1`` without ``MICROSOFT_APP_ID``) anyone who
    reaches the server can speak as anyone, so it must listen on a loopback address only,
    unless ``TEAMS_ALLOW_REMOTE_DEV=1`` says otherwise.

    Raises:
        ConfigError: the host is not a loopback address.
    """
    teams = settings.teams
    if not teams.unauthenticated or teams.allow_remote_dev or _is_loopback(host):
        return
    raise ConfigError(
        f"TEAMS_LOCAL_DEV=1 turns Teams authentication off, so the server listens only on "
        f"loopback (127.0.0.1), not {host}. Set MICROSOFT_APP_ID, or TEAMS_ALLOW_REMOTE_DEV=1 "
        f"if you really mean to expose an unauthenticated bot."
    )


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def doctor_check(settings: Settings) -> Check:
    """``policybot doctor``: can the bot get a Bot Framework token with its credentials?"""
    teams = settings.teams
    if not teams.enabled:
        return skipped("teams", "not configured (no MICROSOFT_APP_ID)")
    if teams.unauthenticated:
        return skipped("teams", "local development mode: no authentication, loopback only")
    if not teams.app_password:
        return failed(
            "teams", "MICROSOFT_APP_ID is set without its password", "set MICROSOFT_APP_PASSWORD"
        )
    from botframework.connector.auth import MicrosoftAppCredentials

    credentials = MicrosoftAppCredentials(
        teams.app_id, teams.app_password, channel_auth_tenant=teams.tenant_id or None
    )
    try:
        credentials.get_access_token()
    except Exception as exc:  # msal reports a refused secret, a wrong tenant or no network
        return failed(
            "teams",
            f"no Bot Framework token: {type(exc).__name__}: {exc}"[:300],
            "check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID",
        )
    return ok("teams", f"app {teams.app_id} gets Bot Framework tokens")
