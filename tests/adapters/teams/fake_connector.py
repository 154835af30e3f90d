"""A fake Bot Framework connector (the Teams side of the bot's outgoing calls) on 127.0.0.1.

It records what the bot sends and answers as Teams does: ``POST
/v3/conversations/{id}/activities[/{activityId}]`` (a new message or a reply) and ``PUT`` on the
same path (an update) give the activity's id; ``POST /v3/conversations`` opens a one-to-one
chat. It can be scripted to answer the next calls of one activity type with an error.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    """One request the bot made."""

    method: str
    conversation: str
    activity_id: str
    body: dict[str, Any]
    authorization: str
    status: int = 200
    response_id: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def type(self) -> str:
        return str(self.body.get("type", ""))

    @property
    def card(self) -> dict[str, Any]:
        """The Adaptive Card the activity carries."""
        attachments = self.body.get("attachments") or []
        assert attachments, f"no card in {self.body}"
        assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        return attachments[0]["content"]

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")


@dataclass
class Failure:
    activity_type: str
    status: int
    retry_after: str | None


class FakeConnector:
    """Records the bot's calls; see the module docstring."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.created: list[dict[str, Any]] = []
        self._failures: list[Failure] = []
        self._ids = itertools.count(1)

    def fail_next(
        self, activity_type: str, status: int, *, times: int = 1, retry_after: str | None = None
    ) -> None:
        """Answer the next ``times`` calls sending ``activity_type`` with ``status``."""
        self._failures += [Failure(activity_type, status, retry_after)] * times

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{id}", self._activity)
        app.router.add_put("/v3/conversations/{conversation}/activities/{id}", self._activity)
        return app

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.created.append(body)
        return web.json_response({"id": f"a:personal-{next(self._ids)}"}, status=201)

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call(
            method=request.method,
            conversation=request.match_info["conversation"],
            activity_id=request.match_info.get("id", ""),
            body=body,
            authorization=request.headers.get("Authorization", ""),
        )
        self.calls.append(call)
        failure = next((f for f in self._failures if f.activity_type == call.type), None)
        if failure is not None:
            self._failures.remove(failure)
            call.status = failure.status
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            error = {"error": {"code": "Throttled", "message": "slow down"}}
            return web.json_response(error, status=failure.status, headers=headers)
        call.response_id = (
            call.activity_id if request.method == "PUT" else f"activity-{next(self._ids)}"
        )
        return web.json_response(
            {"id": call.response_id}, status=200 if request.method == "PUT" else 201
        )

    # What the tests read.

    def sent(self, kind: str = "message", *, method: str = "POST") -> list[Call]:
        """The activities of one type (``message``, ``typing``) that were accepted."""
        return [c for c in self.attempts(kind, method=method) if c.status == 200]

    def attempts(self, kind: str = "message", *, method: str = "POST") -> list[Call]:
        """Every call that tried to send an activity of one type, refused ones included."""
        return [c for c in self.calls if c.type == kind and c.method == method]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT" and c.status == 200]

    def cards(self) -> list[Call]:
        return [c for c in self.sent() if c.body.get("attachments")]

    async def wait_for(self, count: int, kind: str = "message", timeout: float = 10.0) -> None:
        """Wait until ``count`` activities of ``kind`` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.sent(kind)) < count:
            assert time.monotonic() < deadline, f"only {self.sent(kind)} arrived"
            await asyncio.sleep(0.02)
