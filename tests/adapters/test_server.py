"""``policybot serve``'s own routes over real HTTP, and the one-platform delivery dispatch."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.delivery import PlatformDispatch
from adapters.server import ASSISTANT, create_app
from bot.assistant import Assistant
from bot.case_views import CaseView
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.models import Question, Team
from bot.reload.lease import ALREADY_RUNNING, ReloadLease
from tests.fakes import FakeEmbedder

TOKEN = "s3cret-token"


async def serve(assistant: Assistant) -> AsyncIterator[TestClient[Any, Any]]:
    client = TestClient(TestServer(create_app(assistant), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


@pytest.fixture
async def client(real_bot: PolicyBot, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    engine = PolicyBot(
        dataclasses.replace(real_bot.settings, admin_token=TOKEN),
        embedder=lambda: real_bot.index.embedder,
    )
    work = Casework.open(Settings(data_dir=tmp_path))
    async for c in serve(Assistant(engine, work)):
        yield c
    work.close()


async def test_healthz_reports_the_knowledge_version_and_database(
    client: TestClient[Any, Any], real_bot: PolicyBot
) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["knowledge_version"] == real_bot.knowledge_version
    assert body["database"] == "ok"
    assert "llm" not in body  # no model configured


async def test_healthz_is_503_without_an_index_or_a_database(
    knowledge: Path, tmp_path: Path
) -> None:
    engine = PolicyBot(
        Settings(data_dir=tmp_path / "empty", knowledge_dir=knowledge), embedder=FakeEmbedder
    )
    async for c in serve(Assistant(engine, None)):
        response = await c.get("/healthz")
        body = await response.json()
    assert response.status == 503
    assert body["status"] == "unavailable"
    assert body["index"].startswith("unavailable")
    assert body["database"].startswith("unavailable")


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
async def test_admin_reload_refuses_a_missing_or_wrong_token(
    client: TestClient[Any, Any], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.post("/admin/reload", headers=headers)
    assert response.status == 401


async def test_admin_reload_with_the_token_reports_the_diff(client: TestClient[Any, Any]) -> None:
    response = await client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    body = await response.json()
    assert body["rebuilt"] is False
    assert "No changes" in body["summary"]


async def test_one_reload_at_a_time_on_every_instance(client: TestClient[Any, Any]) -> None:
    other = ReloadLease(client.server.app[ASSISTANT].work.db)
    assert other.acquire()  # another instance on the database is reloading
    try:
        response = await client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        other.release()
    assert response.status == 409
    assert (await response.json())["error"] == ALREADY_RUNNING


async def test_a_failed_reload_names_the_file_and_keeps_serving(
    knowledge: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, knowledge_dir=knowledge, admin_token=TOKEN)
    engine = PolicyBot(settings, embedder=FakeEmbedder)
    engine.reload_documents()
    (knowledge / "broken.docx").write_bytes(b"not a zip at all")
    async for c in serve(Assistant(engine, None)):
        response = await c.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        body = await response.json()
        health = await c.get("/healthz")
        index = (await health.json())["index"]
    assert response.status == 422
    assert "broken.docx" in body["error"]
    assert index == "ok"


@dataclasses.dataclass
class Platform:
    """A PlatformNotifier that records deliveries."""

    platform: str
    teams: tuple[Team, ...]
    calls: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def serves_team(self, team: Team) -> bool:
        return team in self.teams

    def post_case(self, case: CaseView) -> None:
        self.calls.append(("post_case", case.id))

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        self.calls.append(("deliver_reply", conversation_ref))

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        self.calls.append(("remind", team))


def case(platform: str, team: Team = "hr") -> CaseView:
    fields = {f.name: None for f in dataclasses.fields(CaseView)}
    return CaseView(**{**fields, "id": "HR-0001", "team": team, "platform": platform})  # type: ignore[arg-type]


def test_a_case_is_announced_once_on_the_askers_own_platform_when_it_can() -> None:
    slack, teams = Platform("slack", ("hr",)), Platform("teams", ("hr", "communications"))
    dispatch = PlatformDispatch([slack, teams])
    dispatch.post_case(case("teams"))
    dispatch.post_case(case("cli"))
    dispatch.post_case(case("slack", "communications"))
    assert teams.calls == [("post_case", "HR-0001"), ("post_case", "HR-0001")]
    assert slack.calls == [("post_case", "HR-0001")]


def test_a_reply_goes_to_the_platform_of_its_conversation() -> None:
    slack, teams = Platform("slack", ("hr",)), Platform("teams", ("hr",))
    PlatformDispatch([slack, teams]).deliver_reply('teams:{"c":1}', case("teams"), "hello")
    assert teams.calls == [("deliver_reply", 'teams:{"c":1}')] and slack.calls == []


def test_nothing_to_deliver_to_stays_undelivered() -> None:
    dispatch = PlatformDispatch([Platform("slack", ("communications",))])
    with pytest.raises(LookupError):
        dispatch.post_case(case("slack", "hr"))
    with pytest.raises(LookupError):
        dispatch.deliver_reply("teams:29:x", case("teams"), "hello")


async def test_metrics_count_questions_and_escalations_and_read_the_outbox(
    client: TestClient[Any, Any], real_bot: PolicyBot
) -> None:
    assistant: Assistant = client.app[ASSISTANT]
    answered = assistant.ask(Question("How long are quarantined emails kept?", user_id="slack:U1"))
    assistant.ask(Question("What's the best pizza near the office?", user_id="slack:U1"))
    assistant.escalate(answered.id, "hr")
    assistant.escalate(answered.id, "hr")  # a double click: one case, counted once

    response = await client.get("/metrics")
    text = await response.text()

    assert response.status == 200 and response.content_type == "text/plain"
    assert 'policybot_questions_total{answered="true"} 1.0' in text
    assert 'policybot_questions_total{answered="false"} 1.0' in text
    assert 'policybot_escalations_total{team="hr"} 1.0' in text
    assert "policybot_ask_seconds_count 2.0" in text
    assert "policybot_outbox_pending 1.0" in text  # the new case's announcement
    assert f'policybot_knowledge_info{{version="{real_bot.knowledge_version}"}} 1.0' in text
    assert "slack:U1" not in text  # no personal data in a label


@pytest.mark.parametrize("value", ["Bearer s3cr\u00e9t", "Bearer \u00ff\u00fe", "\u00e9"])
async def test_a_reload_with_a_non_ascii_token_is_refused_not_crashed(
    client: TestClient[Any, Any], value: str
) -> None:
    response = await client.post("/admin/reload", headers={"Authorization": value})
    assert response.status == 401
