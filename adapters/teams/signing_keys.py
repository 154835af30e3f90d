"""Microsoft's token signing keys, fetched without blocking the server.

botbuilder validates each Bot Framework token against the signing keys its OpenID metadata
names, and fetches them with blocking ``requests`` calls without a timeout, on the event loop
(``JwtTokenExtractor``'s ``_OpenIdMetadata``): a slow key endpoint froze the whole server,
``/healthz`` and Slack included, on the first token check and again whenever an unknown key
id asked for a refresh. :func:`install` gives botbuilder :class:`SigningKeys` instead, one per
metadata URL, which botbuilder's token checks use unchanged:

- the metadata and the keys are fetched with aiohttp, so the event loop keeps serving while
  they come, and within :data:`FETCH_TIMEOUT` seconds in all;
- one fetch at a time: the calls waiting for keys share it;
- the keys are refreshed once a day; a token naming a key id not among them asks for a
  refresh at most every :data:`UNKNOWN_KEY_INTERVAL` seconds, so that tokens with made-up key
  ids cannot make the server hammer Microsoft (or wait on it);
- after a failed fetch the next one waits :data:`RETRY_AFTER_FAILURE` seconds; meanwhile the
  keys already known keep working, and with none the call gets 503 (``app.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from botframework.connector.auth import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

#: Seconds for the metadata and the keys together, connection included.
FETCH_TIMEOUT = 10.0
#: Seconds after which the keys are fetched again (Microsoft rolls them over days).
MAX_AGE = 24 * 3600.0
#: Seconds between refreshes that an unknown key id may trigger.
UNKNOWN_KEY_INTERVAL = 300.0
#: Seconds before a fetch that failed is tried again.
RETRY_AFTER_FAILURE = 30.0


class KeysUnavailableError(OSError):
    """Microsoft's signing keys cannot be fetched now (slow, down, or not what was expected):
    tokens cannot be checked, so the call is refused with 503 and Teams tries again."""


class UnknownSigningKeyError(Exception):
    """The token names a signing key Microsoft does not publish: the token is refused."""


@dataclass(frozen=True)
class SigningKey:
    """One key as botbuilder's token check reads it (``public_key``, ``endorsements``)."""

    public_key: Any
    endorsements: list[str] = field(default_factory=list)


class SigningKeys:
    """The signing keys named by one OpenID metadata URL (see the module docstring).

    Args:
        url: the OpenID metadata document, whose ``jwks_uri`` names the keys.
        clock: seconds, monotonic (tests pass a fake).
    """

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()
        #: How many times the keys were fetched (or tried): for logs and tests.
        self.fetches = 0

    async def get(self, key_id: str | None) -> SigningKey:
        """The key ``key_id`` names, fetching the keys first when they are due.

        Raises:
            KeysUnavailableError: no keys could be fetched (none known yet, or a refresh
                that an unknown key id asked for failed).
            UnknownSigningKeyError: the key id is not among Microsoft's keys.
        """
        async with self._lock:  # one fetch at a time; the waiting calls see its keys
            if self._due(self._fetched_at, MAX_AGE):
                await self._refresh(keep_old=self._fetched_at is not None)
            if key_id not in self._keys and self._due(self._tried_at, UNKNOWN_KEY_INTERVAL):
                log.info("teams: a token names an unknown signing key: fetching the keys again")
                await self._refresh(keep_old=True)
        jwk = self._keys.get(key_id or "")
        if jwk is None:
            raise UnknownSigningKeyError(f"no signing key {str(key_id)[:40]!r}")
        public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        return SigningKey(public_key, list(jwk.get("endorsements") or []))

    def _due(self, at: float | None, interval: float) -> bool:
        return at is None or self._clock() - at >= interval

    async def _refresh(self, *, keep_old: bool) -> None:
        if self._failed_at is not None and not self._due(self._failed_at, RETRY_AFTER_FAILURE):
            if keep_old:
                return
            raise KeysUnavailableError("Microsoft's signing keys could not be fetched lately")
        self._tried_at = self._clock()
        self.fetches += 1
        try:
            self._keys = await _fetch(self.url)
        except (aiohttp.ClientError, OSError, ValueError, KeyError, TypeError) as exc:
            self._failed_at = self._clock()
            log.error(
                "teams: Microsoft's signing keys could not be fetched: %s", type(exc).__name__
            )
            if not keep_old:
                raise KeysUnavailableError("Microsoft's signing keys could not be fetched") from exc
            return
        self._fetched_at = self._tried_at
        self._failed_at = None
        log.info("teams: %d signing keys fetched", len(self._keys))


async def _fetch(url: str) -> dict[str, dict[str, Any]]:
    """The keys by key id, from the metadata at ``url`` and the ``jwks_uri`` it names.

    Raises:
        aiohttp.ClientError, TimeoutError: the endpoint failed or took too long.
        KeyError, TypeError, ValueError: the documents are not what OpenID says.
    """
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as session:
        async with session.get(url, raise_for_status=True) as response:
            keys_url = str((await response.json(content_type=None))["jwks_uri"])
        async with session.get(keys_url, raise_for_status=True) as response:
            keys = (await response.json(content_type=None))["keys"]
    return {str(key["kid"]): dict(key) for key in keys if isinstance(key, dict) and "kid" in key}


_BY_URL: dict[str, SigningKeys] = {}


def keys_for(url: str) -> SigningKeys:
    """The one :class:`SigningKeys` of this process for ``url``."""
    if url not in _BY_URL:
        _BY_URL[url] = SigningKeys(url)
    return _BY_URL[url]


def install() -> None:
    """Make botbuilder's token checks use :func:`keys_for` (idempotent).

    ``JwtTokenExtractor.get_open_id_metadata`` is where every validator of botbuilder
    (channel, emulator, skill, government, enterprise) gets the keys of a metadata URL; its
    result needs only an awaitable ``get(key_id)``.
    """
    JwtTokenExtractor.get_open_id_metadata = staticmethod(keys_for)
