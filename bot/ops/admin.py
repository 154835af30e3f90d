"""Who may reload the documents over HTTP (``POST /admin/reload``), and the refusals.

The bearer of ``POLICYBOT_ADMIN_TOKEN``, compared in constant time. Without a configured
token nobody may: the endpoint is closed rather than open to all.
"""

from __future__ import annotations

import hmac

from bot.config import Settings

#: The ``error`` of a refused reload (HTTP 401): the same for a missing and a wrong token.
UNAUTHORISED = "unauthorised"


def may_reload(settings: Settings, authorization: str) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <POLICYBOT_ADMIN_TOKEN>``."""
    token = settings.admin_token
    if not token:
        return False
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
