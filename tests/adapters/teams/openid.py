"""Microsoft's OpenID metadata and signing keys, as a local HTTP server in a thread.

It serves ``/.well-known/configuration`` (naming ``/keys``) and ``/keys`` (one trusted RSA key,
``kid`` "trusted", endorsed for ``msteams``). It runs in a thread of its own so that it keeps
answering whatever the event loop of the server under test does, and it can be told to hold
every request (a slow Microsoft) until :meth:`OpenIdEndpoint.release`.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
APP_ID = "6f1f7a4c-2d0b-4c5e-9a53-1b2d3c4e5f60"
#: The longest a held request waits for its release, so that a failing test ends.
HOLD_AT_MOST = 30.0


class OpenIdEndpoint:
    """The endpoint (see the module docstring).

    Args:
        trusted: the key whose public half it publishes.
        hold: hold every request until :meth:`release` is called.
    """

    def __init__(self, trusted: rsa.RSAPrivateKey, *, hold: bool = False) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(trusted.public_key()))
        jwk.update(kid="trusted", endorsements=["msteams"])
        self.requests: list[str] = []
        self.answered: list[str] = []
        self.received = threading.Event()
        self._waiting = 0
        self._released = threading.Event()
        if not hold:
            self._released.set()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.requests.append(self.path)
                endpoint._waiting += 1
                endpoint.received.set()
                endpoint._released.wait(HOLD_AT_MOST)
                endpoint._waiting -= 1
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                body = {"issuer": ISSUER, "jwks_uri": f"{base}/keys"}
                data = json.dumps(body if self.path.endswith("configuration") else {"keys": [jwk]})
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(data.encode())
                except OSError:  # the client gave up waiting
                    return
                endpoint.answered.append(self.path)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/configuration"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def holding(self) -> bool:
        """A request is being held now."""
        return self._waiting > 0

    def release(self) -> None:
        """Answer the held requests, and every later one at once."""
        self._released.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


def token(key: Any, service_url: str, *, audience: str = APP_ID, kid: str = "trusted") -> str:
    """A Bot Framework token for ``service_url``, signed with ``key``, naming key ``kid``."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "serviceurl": service_url,
        "nbf": now - 10,
        "iat": now - 10,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
