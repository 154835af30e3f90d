"""Two real ``policybot serve`` processes behind one imaginary load balancer (issue 11).

One PostgreSQL server (``DATABASE_URL``), one Chroma server (``chroma run``, indexed once with
``policybot reload``), one shared data directory (the index's manifest), one fake Slack Web API
and one fake Bot Framework connector in this process. Slack events, interactivity payloads and
Teams activities go to the two instances in turn, Slack's retries and the Bot Framework's
resends to the *other* instance, and the test checks what reached the fakes:

- each question is answered exactly once (retries and resends included);
- a Slack case opened on A is claimed and replied to on B, and the reply reaches the asker
  exactly once (one DM, one message in the thread); a Teams case opened on B is claimed on A
  and replied to on B, and the asker's chat gets the reply once;
- the anonymity hold holds across instances: while the asker chooses, the other instance,
  delivering its own notifications, does not show the held card; the asker's choice on the
  other instance releases it, once;
- killing A (SIGKILL) while a card it queued is held, and while a reply it queued has failed
  against a Slack that answers errors, loses nothing: B delivers both, once each.

``pytest tests/e2e -s`` prints the figures. Skipped, with the reason, only when no PostgreSQL
server can be started (failed instead under ``POLICYBOT_REQUIRE_POSTGRES=1``, as in CI); a
``chroma run`` that will not start fails it, as in ``tests/bot/test_store.py`` (the CLI is a
locked dependency). The longest wait is the product's own: the failed delivery is due again
after the outbox's 30 s back-off and B's timer comes round every 20 s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text

from bot.storage.db import normalise_url
from tests.adapters.slack.fake_slack import BOT_TOKEN, BOT_USER, Call, FakeSlack
from tests.adapters.teams.fake_connector import FakeConnector
from tests.bot.test_store import ChromaServer, start_chroma_server
from tests.postgres import admin_sql, create_schema, free_port
from tests.processes import Instance, until, wait_healthy

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 120.0

SECRET = "e2e-signing-secret"
SLACK_HR, SLACK_COMMS = "CHR", "CCOMMS"
HR, STAFF, STAFF2 = "UHR1", "USTAFF", "USTAFF2"
TEAMS_HR, TEAMS_COMMS = "19:hr-cases@thread.tacv2", "19:comms-cases@thread.tacv2"
BOT = {"id": "28:policybot", "name": "PolicyBot"}
COMMS_REVIEWER = {"id": "29:comms", "aadObjectId": "aad-comms", "name": "Chris Comms"}
TENANT = "tenant-1"

#: Asked in a channel and passed to HR from its thread: a rule question, which is answered in
#: the thread (a personal situation told there would be answered by DM, and its case replied
#: to there only: tests/adapters/slack/test_private.py).
CHANNEL_RULE = "What does the policy say about staff using Twitter at work?"
ANONYMOUS = {
    "note": {"text": {"type": "plain_text_input", "value": "It happens every evening"}},
    "anonymous": {"choice": {"type": "checkboxes", "selected_options": [{"value": "anonymous"}]}},
}


async def quiet(fakes: list[Any], for_seconds: float = 0.6) -> None:
    """Wait until neither fake has received anything for ``for_seconds``."""
    last = -1
    while True:
        now = sum(len(f.calls) for f in fakes)
        if now == last:
            return
        last = now
        await asyncio.sleep(for_seconds)


# --- the servers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(postgres_url: str) -> Iterator[str]:
    """A schema of its own on the run's PostgreSQL server, as the storage tests use."""
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    url = create_schema(postgres_url, schema)
    yield url
    admin_sql(postgres_url, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = start_chroma_server(tmp_path_factory.mktemp("e2e-chroma"))
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Deployment:
    """The two instances, the fakes they talk to, and helpers that act as Slack and Teams."""

    a: Instance
    b: Instance
    slack: FakeSlack
    teams: FakeConnector
    teams_url: str
    session: aiohttp.ClientSession
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # Slack --------------------------------------------------------------------------------

    async def slack_post(
        self, to: Instance, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> str:
        stamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        sent = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            "Content-Type": content_type,
            **(headers or {}),
        }
        async with self.session.post(
            to.url + "/slack/events", data=body.encode(), headers=sent
        ) as resp:
            answer = await resp.text()
            assert resp.status == 200, f"{to.name}: {resp.status} {answer}\n{to.tail()}"
            return answer

    def mention_body(self, text: str, *, user: str = STAFF) -> tuple[str, str]:
        """A signed-ready app_mention event: (its ts, the body)."""
        n = next(self._ids)
        ts = f"1710000000.{n:06d}"
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "channel": "CGENERAL",
            "event_ts": ts,
        }
        body = {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": f"EvE2E{n:06d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}],
        }
        return ts, json.dumps(body)

    async def interact(self, to: Instance, payload: dict[str, Any]) -> str:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return await self.slack_post(to, body, "application/x-www-form-urlencoded")

    async def press(
        self,
        to: Instance,
        action_id: str,
        value: str,
        *,
        user: str,
        message: Call | None = None,
        ephemeral_blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """A button press on a message the fake received, or on an ephemeral message."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower()},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "trigger_id": f"trig.{user}.{next(self._ids)}",
            "actions": [
                {
                    "action_id": action_id,
                    "value": value,
                    "type": "button",
                    "block_id": "b",
                    "action_ts": "1.2",
                }
            ],
            "response_url": f"{self.slack.url}respond/{next(self._ids)}",
        }
        if message is not None:
            channel, ts = message.args["channel"], message.result["ts"]
            shown = {"text": message.args.get("text"), "blocks": message.blocks, "ts": ts}
            if message.args.get("thread_ts"):
                shown["thread_ts"] = message.args["thread_ts"]
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["message"] = shown
            payload["channel"] = {"id": channel}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": "1.1",
                "channel_id": "CGENERAL",
                "is_ephemeral": True,
            }
            payload["message"] = {"blocks": ephemeral_blocks or []}
            payload["channel"] = {"id": "CGENERAL"}
        await self.interact(to, payload)

    async def submit(
        self, to: Instance, view: dict[str, Any], values: dict[str, Any], *, user: str
    ) -> str:
        payload = {
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "trigger_id": "trig.submit",
            "view": {**view, "id": "V0001", "state": {"values": values}},
        }
        return await self.interact(to, payload)

    async def close_modal(self, to: Instance, case_id: str, *, user: str) -> None:
        payload = {
            "type": "view_closed",
            "user": {"id": user},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "is_cleared": False,
            "view": {
                "id": "V0001",
                "type": "modal",
                "callback_id": "case_amend",
                "private_metadata": json.dumps({"case": case_id}),
                "state": {"values": {}},
            },
        }
        await self.interact(to, payload)

    def slack_answers(self, ts: str) -> list[Call]:
        return self.slack.of(
            "chat.postMessage",
            lambda c: c.args.get("thread_ts") == ts and c.args.get("channel") == "CGENERAL",
        )

    def slack_cards(self, case_id: str, channel: str = SLACK_HR) -> list[Call]:
        return self.slack.of(
            "chat.postMessage",
            lambda c: c.args.get("channel") == channel and f"{case_id} ·" in c.text,
        )

    # Teams --------------------------------------------------------------------------------

    def activity(
        self,
        *,
        text: str | None = None,
        value: dict[str, Any] | None = None,
        sender: dict[str, str],
        conversation: str,
        kind: str = "personal",
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "type": "message",
            "id": f"e2e-msg-{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.teams_url,
            "from": sender,
            "recipient": BOT,
            "conversation": {
                "id": conversation,
                "conversationType": kind,
                "tenantId": TENANT,
                "isGroup": kind != "personal",
            },
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-GB",
        }
        if text is not None:
            activity["text"] = text
        if value is not None:
            activity["value"] = value
        if reply_to:
            activity["replyToId"] = reply_to
        return activity

    async def teams_post(self, to: Instance, activity: dict[str, Any]) -> None:
        async with self.session.post(to.url + "/api/messages", json=activity) as resp:
            answer = await resp.text()
            assert resp.status in (200, 201), f"{to.name}: {resp.status} {answer}\n{to.tail()}"

    def teams_sent(self, conversation: str) -> list[Any]:
        return [c for c in self.teams.sent() if c.conversation.split(";")[0] == conversation]


def env_for(
    data_dir: Path, database_url: str, chroma: ChromaServer, slack_api: str, home: Path
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "POLICYBOT_ENV_FILE": "",
        "POLICYBOT_DATA_DIR": str(data_dir),
        "POLICYBOT_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "DATABASE_URL": database_url,
        "CHROMA_HOST": chroma.host,
        "CHROMA_PORT": str(chroma.port),
        "POLICYBOT_HR_REVIEWERS": f"slack:{HR},teams:29:hr",
        "POLICYBOT_COMMS_REVIEWERS": "slack:UCOMMS1,teams:aad-comms",
        "POLICYBOT_ADMINS": "slack:UADMIN",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_HR_CHANNEL": SLACK_HR,
        "SLACK_COMMS_CHANNEL": SLACK_COMMS,
        "SLACK_API_URL": slack_api,
        "TEAMS_LOCAL_DEV": "1",
        "TEAMS_HR_CHANNEL": TEAMS_HR,
        "TEAMS_COMMS_CHANNEL": TEAMS_COMMS,
    }


@pytest.fixture
async def deployment(
    database_url: str, chroma: ChromaServer, tmp_path: Path
) -> AsyncIterator[Deployment]:
    slack = FakeSlack()
    await slack.start()
    teams = FakeConnector()
    connector = TestServer(teams.app(), host="127.0.0.1")
    await connector.start_server()
    data_dir = tmp_path / "data"
    env = env_for(data_dir, database_url, chroma, slack.api_url, tmp_path)
    policybot = str(BIN / "policybot")
    instances: list[Instance] = []
    session = aiohttp.ClientSession()
    try:
        # Index once, into the Chroma server (the fakes are idle meanwhile).
        began = time.monotonic()
        done = await asyncio.create_subprocess_exec(
            policybot,
            "reload",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(done.communicate(), timeout=START_TIMEOUT)
        assert done.returncode == 0, out.decode(errors="replace")[-3000:]
        indexed = time.monotonic()
        for name in ("A", "B"):
            port, log = free_port(), tmp_path / f"serve-{name}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [policybot, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            instances.append(Instance(name, port, process, log))
        for instance in instances:
            await wait_healthy(session, instance)
        print(
            f"\nset-up: policybot reload {indexed - began:.1f}s, "
            f"both serve processes healthy {time.monotonic() - indexed:.1f}s later"
        )
        yield Deployment(
            instances[0],
            instances[1],
            slack,
            teams,
            str(connector.make_url("")).rstrip("/"),
            session,
        )
    finally:
        for instance in instances:
            instance.stop()
        await session.close()
        await connector.close()
        await slack.close()


def outbox_rows(database_url: str) -> list[tuple[str, str, int]]:
    """(kind, status, attempts) of every notification in the shared database."""
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, status, attempts FROM outbox ORDER BY id"))
            return [(r[0], r[1], r[2]) for r in rows]
    finally:
        engine.dispose()


def actions(call: Call) -> list[dict[str, Any]]:
    return [e for b in call.blocks if b["type"] == "actions" for e in b.get("elements", [])]


# --- the test -----------------------------------------------------------------------------


async def test_two_serve_processes_behave_as_one(deployment: Deployment, database_url: str) -> None:
    d = deployment
    a, b = d.a, d.b
    started = time.monotonic()
    turn = itertools.cycle([a, b])

    def other(instance: Instance) -> Instance:
        return b if instance is a else a

    # 1. Questions, round robin; each Slack event retried to the other instance, each Teams
    #    activity resent to the other instance (and each Slack event replayed to the first).
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    slack_questions = [
        (CHANNEL_RULE, STAFF),
        ("Can I use Facebook at lunch?", STAFF),
        ("Can I say where I work on LinkedIn?", STAFF2),
    ]
    slack_threads: list[str] = []
    for question, user in slack_questions:
        first = next(turn)
        ts, body = d.mention_body(question, user=user)
        await d.slack_post(first, body, "application/json")
        await d.slack_post(other(first), body, "application/json", headers=retry)
        await d.slack_post(first, body, "application/json")  # a replay, no retry header
        slack_threads.append(ts)

    teams_questions = [
        ("A journalist has just phoned me about a Council decision. What should I do?", "a:p-1"),
        ("How long are quarantined emails kept?", "a:p-2"),
    ]
    asker = {"id": "29:asker", "aadObjectId": "aad-asker", "name": "Jo Bloggs"}
    for question, conversation in teams_questions:
        first = next(turn)
        activity = d.activity(text=question, sender=asker, conversation=conversation)
        await d.teams_post(first, activity)
        await d.teams_post(other(first), activity)  # the Bot Framework resends it

    for ts in slack_threads:
        await until(lambda ts=ts: d.slack_answers(ts), f"a Slack answer in thread {ts}")
    for _, conversation in teams_questions:
        await until(lambda c=conversation: d.teams_sent(c), f"a Teams answer in {conversation}")
    await quiet([d.slack, d.teams])
    answered = {ts: len(d.slack_answers(ts)) for ts in slack_threads}
    answered |= {c: len(d.teams_sent(c)) for _, c in teams_questions}
    assert answered == dict.fromkeys(answered, 1), answered

    # 2. A Slack case opened on A; its card is held while the asker chooses. B, delivering a
    #    Teams case of its own meanwhile, does not show the held card.
    (abuse_answer,) = d.slack_answers(slack_threads[0])
    escalate = next(e for e in actions(abuse_answer) if e["action_id"] == "escalate_hr")
    await d.press(a, "escalate_hr", escalate["value"], user=STAFF, message=abuse_answer)
    told = await until(
        lambda: d.slack.of("response_url", lambda c: "HR-0001" in c.text), "HR-0001 opened"
    )
    assert "HR-0001" in told[0].text

    journalist = d.teams_sent("a:p-1")[0].card
    form = next(
        x
        for x in journalist["actions"]
        if x["type"] == "Action.ShowCard" and "communications" in str(x)
    )
    data = form["card"]["actions"][0]["data"]
    await d.teams_post(b, d.activity(value=data, sender=asker, conversation="a:p-1"))
    com_card = (
        await until(lambda: d.teams_sent(TEAMS_COMMS), "the Teams card COM-0001 in its channel")
    )[0]
    assert "COM-0001" in json.dumps(com_card.body)
    await quiet([d.slack, d.teams])
    assert d.slack_cards("HR-0001") == [], "B showed a card held while the asker chooses"

    # The asker closes their form on B: B releases the hold and posts the card, once.
    await d.close_modal(b, "HR-0001", user=STAFF)
    (hr_card,) = await until(lambda: d.slack_cards("HR-0001"), "the HR-0001 card after release")

    # 3. Claimed and replied to on B; the reply reaches the asker once (DM and thread).
    await d.press(b, "case_claim", "HR-0001", user=HR, message=hr_card)
    await until(
        lambda: d.slack.of("chat.update", lambda c: f"Claimed · <@{HR}>" in c.text),
        "HR-0001's card shows the claim",
    )
    await d.press(b, "case_reply", "HR-0001", user=HR, message=hr_card)
    opened = await until(
        lambda: d.slack.of("views.open", lambda c: c.args["view"]["callback_id"] == "case_reply"),
        "the reply form",
    )
    reply = "Please keep screenshots, and call me on 4321 today."
    values = {"reply": {"text": {"type": "plain_text_input", "value": reply}}}
    await d.submit(b, opened[0].args["view"], values, user=HR)

    def slack_replies() -> list[Call]:
        return d.slack.of("chat.postMessage", lambda c: "call me on 4321" in c.text)

    await until(lambda: len(slack_replies()) >= 2, "the reply to the Slack asker (DM and thread)")

    #    The Teams case, opened on B, is claimed on A and replied to on B.
    com_where = {
        "sender": COMMS_REVIEWER,
        "conversation": f"{TEAMS_COMMS};messageid=1",
        "kind": "channel",
        "reply_to": com_card.response_id,
    }
    await d.teams_post(a, d.activity(value={"action": "claim", "case_id": "COM-0001"}, **com_where))
    teams_reply = "We will ring the journalist back for you."
    await d.teams_post(
        b,
        d.activity(
            value={"action": "reply", "case_id": "COM-0001", "reply_text": teams_reply},
            **com_where,
        ),
    )

    def teams_replies() -> list[Any]:
        return [c for c in d.teams_sent("a:p-1") if teams_reply in c.text]

    await until(teams_replies, "the reply to the Teams asker")

    # 4. Slack starts refusing to open DMs; the reviewer sends a second reply on A, whose
    #    delivery fails and waits for a retry. A opens another case (held while the asker
    #    chooses). A is killed: B delivers both, once each.
    d.slack.errors["conversations.open"] = "internal_error"
    await d.press(a, "case_reply", "HR-0001", user=HR, message=hr_card)
    opened = await until(
        lambda: d.slack.of("views.open", lambda c: c.args["view"]["callback_id"] == "case_reply")[
            1:
        ],
        "the second reply form",
    )
    second = "One more thing: the police reference is 77/2026."
    values = {"reply": {"text": {"type": "plain_text_input", "value": second}}}
    await d.submit(a, opened[0].args["view"], values, user=HR)
    await until(
        lambda: any(k == "deliver_reply" and n >= 1 for k, _, n in outbox_rows(database_url)),
        "the second reply's failed attempt",
    )
    failed_by = [
        i.name for i in (a, b) if "failed, attempt 1" in i.log.read_text("utf-8", "replace")
    ]

    (linkedin_answer,) = d.slack_answers(slack_threads[2])
    escalate = next(e for e in actions(linkedin_answer) if e["action_id"] == "escalate_hr")
    await d.press(a, "escalate_hr", escalate["value"], user=STAFF2, message=linkedin_answer)
    told2 = await until(
        lambda: d.slack.of("response_url", lambda c: "HR-0002" in c.text), "HR-0002 opened"
    )
    await d.press(a, "case_amend", "HR-0002", user=STAFF2, ephemeral_blocks=told2[0].blocks)
    amend_form = await until(
        lambda: d.slack.of("views.open", lambda c: c.args["view"]["callback_id"] == "case_amend"),
        "the asker's form for HR-0002",
    )

    a.kill()
    killed_at = time.monotonic()
    assert a.process.returncode == -signal.SIGKILL
    del d.slack.errors["conversations.open"]  # Slack recovers
    # The asker saves the form on B: anonymous, with a note. B posts the held card.
    await d.submit(b, amend_form[0].args["view"], ANONYMOUS, user=STAFF2)
    (hr2_card,) = await until(lambda: d.slack_cards("HR-0002"), "the HR-0002 card from B")
    assert "withheld at the asker" in hr2_card.text and STAFF2 not in hr2_card.text

    # B's timer retries the failed reply once its back-off is over (30 s, ticks every 20 s).
    def second_replies() -> list[Call]:
        return d.slack.of("chat.postMessage", lambda c: "77/2026" in c.text)

    await until(lambda: len(second_replies()) >= 2, "the second reply, delivered by B", 75)
    retried_after = time.monotonic() - killed_at
    await quiet([d.slack, d.teams])
    elapsed = time.monotonic() - started

    # 5. The figures: everything sent once, nothing left in the outbox.
    assert answered == dict.fromkeys(answered, 1)
    assert len(d.slack_cards("HR-0001")) == 1 and len(d.slack_cards("HR-0002")) == 1
    assert len(d.teams_sent(TEAMS_COMMS)) == 1
    for replies in (slack_replies(), second_replies()):
        dm, in_thread = replies  # exactly two: one DM, one in the asker's thread
        assert dm.args["channel"] == f"D{STAFF.removeprefix('U')}" and "thread_ts" not in dm.args
        assert in_thread.args["thread_ts"] == slack_threads[0]
    assert len(teams_replies()) == 1
    rows = outbox_rows(database_url)
    assert len(rows) == 6 and all(status == "sent" for _, status, _ in rows), rows

    print(
        f"\ntwo serve processes, round robin over A and B; A killed at "
        f"{killed_at - started:.1f}s; B delivered A's failed reply {retried_after:.1f}s later; "
        f"scenario {elapsed:.1f}s"
    )
    print(
        f"questions: {len(answered)} asked ({len(slack_threads)} Slack, each retried to the "
        f"other instance and replayed; {len(teams_questions)} Teams, each resent to the other), "
        f"answers per question: {sorted(answered.values())}"
    )
    print("cases: 3 opened (HR-0001 on A, COM-0001 on B, HR-0002 on A just before A died)")
    print(
        f"deliveries: {len(rows)} outbox rows, all sent once: 3 case cards (HR-0001, COM-0001, "
        f"HR-0002: 1 each), 3 replies (Slack: DM 1 + thread 1, twice; Teams: 1); "
        f"failed attempts per row {[n for _, _, n in rows]} (first failure logged by "
        f"{failed_by or '?'})"
    )
