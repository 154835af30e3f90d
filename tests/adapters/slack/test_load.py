"""40 concurrent mentions into a real ``policybot serve``: all acknowledged, all answered.

The server, the fake Slack and this test run as three processes, as in production, where
Slack's side does not share the bot's CPU. A measurement, not a timed assertion (timings
depend on the machine): it asserts the 40 200s and the 40 threaded answers, and prints the
acknowledgement latencies. ``pytest tests/adapters/slack/test_load.py -s`` shows the figures;
the README's Slack section quotes them.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.engine import PolicyBot
from tests.adapters.slack.conftest import SECRET
from tests.adapters.slack.fake_slack import BOT_TOKEN, BOT_USER
from tests.postgres import free_port

MENTIONS = 40
ROOT = Path(__file__).resolve().parents[3]
QUESTIONS = ROOT / "eval" / "tune" / "colloquial.jsonl"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def served(real_bot: PolicyBot, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the server's URL, the fake Slack's URL), each in its own process."""
    fake_port, port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "POLICYBOT_DATA_DIR": str(real_bot.settings.data_dir),  # the session's index
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cases.sqlite3'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"http://127.0.0.1:{fake_port}/api/",
    }
    fake = start(
        [sys.executable, "-m", "tests.adapters.slack.fake_slack", str(fake_port)],
        env,
        tmp_path / "fake.log",
    )
    serve = [
        sys.executable,
        "-c",
        "from policybot.cli import main; main()",
        "serve",
        "--port",
        str(port),
    ]
    server = start(serve, env, tmp_path / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{fake_port}"
    finally:
        for process in (server, fake):
            process.terminate()
            process.wait(timeout=30)


async def wait_healthy(session: aiohttp.ClientSession, url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            async with session.get(url + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.25)
    raise AssertionError(f"policybot serve did not start: {log.read_text()[-2000:]}")


async def answers(session: aiohttp.ClientSession, fake: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` posts in threads: each mention gets one, its answer or, for a
    personal situation (answered by DM), the note that the bot replied privately."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        async with session.get(fake + "/calls") as resp:
            posted = [
                c
                for c in await resp.json()
                if c["method"] == "chat.postMessage" and c["args"].get("thread_ts")
            ]
        if len(posted) >= count:
            return posted
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(posted)} of {count} answers arrived")


async def mention(session: aiohttp.ClientSession, url: str, n: int, text: str) -> tuple[int, float]:
    ts = f"1710000000.{n:06d}"
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event_id": f"Ev{n:05d}",
            "event": {
                "type": "app_mention",
                "user": f"U{n:04d}",
                "text": f"<@{BOT_USER}> {text}",
                "ts": ts,
                "channel": "CLOAD",
                "event_ts": ts,
            },
            "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}],
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=stamp, body=body
        ),
    }
    started = time.perf_counter()
    async with session.post(url + "/slack/events", data=body.encode(), headers=headers) as resp:
        await resp.read()
        return resp.status, time.perf_counter() - started


@pytest.mark.server
async def test_forty_concurrent_mentions(
    served: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, fake = served
    lines = QUESTIONS.read_text().splitlines()[:MENTIONS]
    questions = [json.loads(line)["question"] for line in lines]
    async with aiohttp.ClientSession() as session:
        await wait_healthy(session, url, tmp_path / "server.log")
        assert (await mention(session, url, 999, "warm up: can i go on insta on my lunch"))[
            0
        ] == 200
        await answers(session, fake, 1)  # the first request asks auth.test and loads the model

        started = time.time()
        acks = await asyncio.gather(*(mention(session, url, n, q) for n, q in enumerate(questions)))
        posted = (await answers(session, fake, MENTIONS + 1))[1:]
    assert [status for status, _ in acks] == [200] * MENTIONS
    threads = sorted(call["args"]["thread_ts"] for call in posted)
    assert threads == [f"1710000000.{n:06d}" for n in range(MENTIONS)]
    latencies = [elapsed * 1000 for _, elapsed in acks]
    last = max(call["at"] for call in posted) - started
    with capsys.disabled():
        print(
            f"\n{MENTIONS} concurrent mentions into policybot serve ({os.cpu_count()} cores, "
            f"Python {platform.python_version()}): {MENTIONS}/{MENTIONS} acknowledged with 200, "
            f"ack p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} "
            f"ms, max {max(latencies):.0f} ms; all {len(posted)} answered in their threads within "
            f"{last:.2f} s"
        )
