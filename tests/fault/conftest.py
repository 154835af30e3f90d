"""Fault injection against real ``policybot serve`` processes (``pytest -m fault``).

Each test starts ``policybot serve`` (a real process, real HTTP on 127.0.0.1) over a copy of
the run's index, with the fake Slack Web API of :mod:`tests.adapters.slack.fake_slack` in this
process, and breaks something the way the world does: another process holds the SQLite write
lock, the database is read-only, Microsoft's key endpoint is slow, a huge file arrives in
``knowledge/``. Questions arrive as signed Slack events. Figures are printed (``-s`` shows
them), never asserted against a clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.engine import PolicyBot
from bot.storage.db import SQLITE_FILE
from tests.adapters.slack.fake_slack import BOT_TOKEN, BOT_USER, Call, FakeSlack
from tests.postgres import free_port
from tests.processes import Instance, until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "fault-signing-secret"
ADMIN_TOKEN = "fault-admin-token"
HR_CHANNEL = "CHR"
STAFF = "USTAFF"
QUESTIONS = (
    "How long are quarantined emails kept?",
    "Can I use Facebook at lunchtime?",
    "Can I post about my job on LinkedIn?",
    "Someone keeps abusing me on Twitter about my job",
)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, round(p / 100 * len(ranked) + 0.5) - 1))]


@dataclass
class Served:
    """A ``policybot serve`` process, the fake Slack it talks to, and Slack's side of it."""

    instance: Instance
    slack: FakeSlack
    data_dir: Path
    session: aiohttp.ClientSession
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def database(self) -> Path:
        return self.data_dir / SQLITE_FILE

    async def get(self, path: str) -> tuple[int, dict[str, object]]:
        async with self.session.get(self.instance.url + path) as response:
            return response.status, await response.json()

    async def slack_post(self, body: str, content_type: str = "application/json") -> None:
        stamp = str(int(time.time()))
        headers = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                timestamp=stamp, body=body
            ),
            "Content-Type": content_type,
        }
        url = self.instance.url + "/slack/events"
        async with self.session.post(url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            assert response.status == 200, f"{response.status} {text}\n{self.instance.tail()}"

    async def ask(self, question: str, *, timeout: float = 40.0) -> tuple[Call, float]:
        """Send a signed direct message; the bot's answer and the seconds it took to come."""
        n = next(self._ids)
        channel, ts = f"DFAULT{n:04d}", f"1710000000.{n:06d}"
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": channel,
            "user": STAFF,
            "text": question,
            "ts": ts,
            "event_ts": ts,
        }
        body = {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": f"EvFault{n:06d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}],
        }
        sent = time.perf_counter()
        await self.slack_post(json.dumps(body))
        (answer,) = await until(
            lambda: self.slack.of("chat.postMessage", lambda c: c.args.get("channel") == channel),
            f"an answer to {question!r}",
            timeout,
        )
        return answer, answer.at - sent

    def audit_rows(self) -> int:
        """Audit rows in the database (read as any other process would)."""
        with sqlite3.connect(self.database, timeout=60) as connection:
            return int(connection.execute("SELECT count(*) FROM audit").fetchone()[0])


def serve_env(data_dir: Path, knowledge: Path, slack: FakeSlack, home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "POLICYBOT_ENV_FILE": "",
        "POLICYBOT_DATA_DIR": str(data_dir),
        "POLICYBOT_KNOWLEDGE_DIR": str(knowledge),
        "POLICYBOT_ADMIN_TOKEN": ADMIN_TOKEN,
        "POLICYBOT_HR_REVIEWERS": "slack:UHR1",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "SLACK_HR_CHANNEL": HR_CHANNEL,
        "SLACK_COMMS_CHANNEL": "CCOMMS",
    }


def start_serve(
    env: dict[str, str], log: Path, *, cwd: Path = ROOT, before: list[str] | None = None
) -> Instance:
    """``policybot serve`` on a free port; ``before``: Python run first in the same process
    (to point Teams at a local key endpoint)."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if before:
        launch = "; ".join([*before, "from policybot.cli import main", "main()"])
        command = [sys.executable, "-c", launch, *args]
    else:
        command = [str(BIN / "policybot"), *args]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return Instance("serve", port, process, log)


async def responding(served: Served) -> tuple[int, dict[str, object]]:
    """Wait until ``/healthz`` answers at all (200 or 503); its status and body."""

    async def probe() -> tuple[int, dict[str, object]] | None:
        if served.instance.process.poll() is not None:
            raise AssertionError(f"serve exited:\n{served.instance.tail()}")
        try:
            return await served.get("/healthz")
        except aiohttp.ClientConnectionError:
            return None

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"serve never answered /healthz:\n{served.instance.tail()}")


class Locker:
    """Another process holding the SQLite write lock (``BEGIN IMMEDIATE``) for ``seconds``,
    or until :meth:`release`."""

    SCRIPT = (
        "import sqlite3, sys, select; c = sqlite3.connect(sys.argv[1]); "
        "c.isolation_level = None; c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); "
        "select.select([sys.stdin], [], [], float(sys.argv[2])); c.execute('ROLLBACK')"
    )

    def __init__(self, database: Path, seconds: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(database), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == b"locked"
        self.since = time.monotonic()

    @property
    def holding(self) -> bool:
        return self.process.poll() is None

    def release(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait(timeout=90)


@pytest.fixture
def data_dir(real_bot: PolicyBot, tmp_path: Path) -> Path:
    """A data directory holding a copy of the run's index (no reload needed to serve)."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(real_bot.settings.index_dir, data / real_bot.settings.index_dir.name)
    return data


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.close()


@pytest.fixture
async def serving(
    fake_slack: FakeSlack, data_dir: Path, tmp_path: Path
) -> AsyncIterator[tuple[dict[str, str], list[Served]]]:
    """The environment of a server over ``data_dir``, and the list the test adds the
    servers it starts to; every one is stopped at the end."""
    env = serve_env(data_dir, ROOT / "knowledge", fake_slack, tmp_path)
    started: list[Served] = []
    yield env, started
    for served in started:
        served.instance.stop()
        await served.session.close()


async def start(
    serving: tuple[dict[str, str], list[Served]],
    slack: FakeSlack,
    data_dir: Path,
    log: Path,
    **options: object,
) -> Served:
    """Start one server of the ``serving`` fixture."""
    env, started = serving
    instance = start_serve(env, log, **options)  # type: ignore[arg-type]
    served = Served(instance, slack, data_dir, aiohttp.ClientSession())
    started.append(served)
    return served
