"""A fake Slack on 127.0.0.1: the Web API, response URLs and a Socket Mode WebSocket.

The real slack_sdk ``WebClient`` (``base_url=<fake>/api/``), bolt's ``respond()`` and the Socket
Mode client talk to it over HTTP; it records every call so that tests can wait for them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOT"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    result: dict[str, Any] = field(default_factory=dict)
    wall: float = field(default_factory=time.time)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.args.get("blocks") or self.args.get("view", {}).get("blocks") or []
        return list(blocks)

    @property
    def text(self) -> str:
        """Everything a person would read: the fallback text and every block's text."""
        return json.dumps([self.args.get("text", ""), self.blocks], ensure_ascii=False)


class FakeSlack:
    """Records Web API calls; answers each as Slack would, or with an injected error."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.errors: dict[str, str] = {}
        self.throttled: dict[str, int] = {}
        """Method -> how many of its next calls get HTTP 429 (``Retry-After: 0``)."""
        self.socket_acks: list[dict[str, Any]] = []
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._server: TestServer | None = None
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/link", self._socket)
        app.router.add_get("/calls", self._calls)
        self.app = app

    async def start(self) -> None:
        self._server = TestServer(self.app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/"))

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def of(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (where is None or where(c))]

    async def wait_for(
        self,
        method: str,
        where: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 15.0,
    ) -> list[Call]:
        """The first ``count`` calls of ``method`` matching ``where``, once they have come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method, where)
            if len(found) >= count:
                return found[:count]
            await asyncio.sleep(0.02)
        seen = [c.method for c in self.calls]
        raise AssertionError(f"no {count} x {method} within {timeout}s; calls: {seen}")

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until no call has come for ``quiet`` seconds (work after the ack is done)."""
        last = len(self.calls)
        while True:
            await asyncio.sleep(quiet)
            if len(self.calls) == last:
                return
            last = len(self.calls)

    async def socket_send(self, message: dict[str, Any]) -> None:
        for ws in self._sockets:
            await ws.send_str(json.dumps(message))

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args: dict[str, Any] = await request.json()
        else:
            args = dict(await request.post())  # type: ignore[arg-type]
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        args["_token"] = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(method, args)
        if self.throttled.get(method):
            self.throttled[method] -= 1
            call.result = {"ok": False, "error": "ratelimited"}
            self.calls.append(call)
            return web.json_response(call.result, status=429, headers={"Retry-After": "0"})
        if method in self.errors:
            call.result = {"ok": False, "error": self.errors[method]}
        else:
            call.result = {"ok": True, **self._result(method, args)}
        self.calls.append(call)
        return web.json_response(call.result)

    def _result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {
                "user_id": BOT_USER,
                "bot_id": "BBOT",
                "team_id": "T0001",
                "user": "policybot",
                "team": "Council",
                "url": "https://council.slack.com/",
            }
        if method == "chat.postMessage":
            return {"channel": args["channel"], "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"channel": args["channel"], "ts": args["ts"]}
        if method == "chat.postEphemeral":
            return {"message_ts": ts}
        if method in ("views.open", "views.publish", "views.update"):
            return {"view": {"id": "V0001", **args.get("view", {})}}
        if method == "users.info":
            user = args["user"]
            return {
                "user": {
                    "id": user,
                    "name": user.lower(),
                    "profile": {"real_name": f"Person {user}"},
                }
            }
        if method == "conversations.open":
            return {"channel": {"id": "D" + str(args["users"]).removeprefix("U")}}
        if method == "apps.connections.open":
            return {"url": self.url.replace("http://", "ws://") + "link"}
        return {}

    async def _calls(self, _request: web.Request) -> web.Response:
        """Every call so far, for a test in another process (the load test)."""
        calls = [{"method": c.method, "args": c.args, "at": c.wall} for c in self.calls]
        return web.json_response(calls)

    async def _respond(self, request: web.Request) -> web.Response:
        args = await request.json()
        args["_key"] = request.match_info["key"]
        self.calls.append(Call("response_url", args))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws


def main() -> None:
    """Serve a fake Slack on 127.0.0.1:PORT until killed (for tests in other processes)."""
    import sys

    fake = FakeSlack()
    web.run_app(fake.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
