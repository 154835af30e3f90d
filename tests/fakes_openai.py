"""A fake OpenAI-compatible server over real HTTP on 127.0.0.1, so the real ``openai``
client runs against it (FINDINGS.md, "openai without OpenAI").

It serves ``POST /v1/chat/completions`` and ``POST /v1/embeddings``, and the Azure OpenAI
paths ``/openai/deployments/{deployment}/chat/completions`` and ``.../embeddings``. Chat
replies are scripted per test (:meth:`FakeOpenAI.script`); an unscripted chat request gets
HTTP 500. Embeddings are :class:`~tests.fakes.FakeEmbedder` vectors, base64-encoded when the
request asks for ``encoding_format: "base64"`` (the client's default). Every request is
recorded with its path, query, headers and JSON body.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from tests.fakes import FakeEmbedder

_CHAT = re.compile(r"^(?:/v1|/openai/deployments/(?P<deployment>[^/]+))/chat/completions$")
_EMBEDDINGS = re.compile(r"^(?:/v1|/openai/deployments/(?P<deployment>[^/]+))/embeddings$")


@dataclass
class Reply:
    """One scripted chat response: a JSON body (or raw text), a status, a delay."""

    body: Any = None
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    """One request the fake received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return "chat" if self.path.endswith("/chat/completions") else "embeddings"


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "gpt-test-2026",
    prompt_tokens: int = 321,
    completion_tokens: int = 45,
) -> Reply:
    """A chat completion whose message is ``content``."""
    return Reply(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def answer(
    text: str,
    citations: list[str],
    *,
    answered: bool = True,
    route: object = "none",
    **kwargs: Any,
) -> Reply:
    """A completion whose content is the JSON answer the prompt asks for (without
    ``route`` when it is None, as a server in plain JSON mode may reply)."""
    data: dict[str, Any] = {"answer": text, "citations": citations, "answered": answered}
    if route is not None:
        data["route"] = route
    return completion(json.dumps(data), **kwargs)


def error(status: int, message: str, *, param: str | None = None, **headers: str) -> Reply:
    """An OpenAI-style error response."""
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param}}
    return Reply(body, status=status, headers=headers)


class FakeOpenAI:
    """The server. Use as a context manager; ``url`` is its base (no ``/v1``).

    Attributes:
        requests: every request received, in order.
        rejected: request features answered with HTTP 400, as a server that lacks them
            would: ``"json_schema"`` (structured output) and ``"reasoning_effort"``.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.rejected: set[str] = set()
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._embedder = FakeEmbedder()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply) -> None:
        """Queue chat replies, answered in order."""
        with self._lock:
            self._replies.extend(replies)

    def chat_requests(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.kind == "chat"]

    def wait_for_chat(self, count: int, timeout: float = 15.0) -> list[Received]:
        """The chat requests once ``count`` have arrived (or ``timeout`` seconds have passed):
        a call the client gave up on may still be on its way on a loaded machine."""
        deadline = time.monotonic() + timeout
        while len(self.chat_requests()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.chat_requests()

    def embedding_requests(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.kind == "embeddings"]

    def respond(self, received: Received) -> Reply:
        """The reply to a request (called on the server's threads)."""
        with self._lock:
            self.requests.append(received)
            if received.kind == "embeddings":
                return self._embeddings(received.body)
            rejected = self._rejection(received.body)
            if rejected is not None:
                return rejected
            return self._replies.popleft() if self._replies else error(500, "unscripted")

    def _rejection(self, body: dict[str, Any]) -> Reply | None:
        response_format = body.get("response_format") or {}
        if "json_schema" in self.rejected and response_format.get("type") == "json_schema":
            return error(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not "
                "supported with this model.",
                param="response_format",
            )
        if "reasoning_effort" in self.rejected and "reasoning_effort" in body:
            return error(
                400,
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                param="reasoning_effort",
            )
        return None

    def _embeddings(self, body: dict[str, Any]) -> Reply:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = self._embedder.embed(texts).astype("<f4")
        encode = body.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": base64.b64encode(v.tobytes()).decode() if encode else v.tolist(),
            }
            for i, v in enumerate(np.asarray(vectors))
        ]
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return Reply({"object": "list", "data": data, "model": body["model"], "usage": usage})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping for a slow reply must not hold up a test

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client gave up on a slow reply: expected, not a failure


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if not (_CHAT.match(parts.path) or _EMBEDDINGS.match(parts.path)):
                self._send(error(404, f"no route {parts.path}"))
                return
            length = int(self.headers.get("content-length", 0))
            received = Received(
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(self.rfile.read(length) or b"{}"),
            )
            reply = fake.respond(received)
            time.sleep(reply.delay)
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            raw = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = raw.encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
