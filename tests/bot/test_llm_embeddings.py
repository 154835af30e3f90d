"""OpenAI embeddings (``POLICYBOT_EMBEDDINGS=openai``) against the fake OpenAI server.

The fake returns ``FakeEmbedder`` vectors, base64-encoded as the client asks; an index built
through it answers like one built with ``FakeEmbedder`` directly, but records the OpenAI
embedder's name.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import ConfigError, EmbedderMismatchError, KnowledgeStoreError
from bot.knowledge.vector_file import HINTS_FILE
from bot.llm.config import LLMConfig
from bot.llm.embeddings import OpenAIEmbedder
from bot.reload.index import embedding_text
from tests.fakes import FakeEmbedder
from tests.fakes_openai import FakeOpenAI

LUNCH = "Can I use Facebook at lunchtime?"
NAME = "openai:text-embedding-3-small"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("POLICYBOT_EMBEDDINGS", "openai")
        yield server


def settings(data_dir: Path, knowledge: Path) -> Settings:
    return Settings.from_env(data_dir=data_dir, knowledge_dir=knowledge)


def _routing_examples(knowledge: Path) -> int:
    """How many distinct example sentences ``routing.toml`` gives the routing model."""
    with (knowledge / "routing.toml").open("rb") as file:
        lists = tomllib.load(file)["examples"]
    return len({sentence for sentences in lists.values() for sentence in sentences})


def test_an_index_built_with_openai_embeddings_answers_and_records_the_model(
    fake: FakeOpenAI, knowledge: Path, tmp_path: Path
) -> None:
    bot = PolicyBot(settings(tmp_path / "data", knowledge))

    report = bot.reload_documents()
    answer = bot.ask(LUNCH)

    assert report.rebuilt and report.embedded == report.chunks
    assert bot.index.current_manifest().embedder == NAME  # type: ignore[union-attr]
    requests = fake.embedding_requests()
    assert all(r.body["encoding_format"] == "base64" for r in requests)
    assert all(r.body["model"] == "text-embedding-3-small" for r in requests)
    # each distinct text of the clauses and their hints once (embedded together), the routing
    # examples, the question
    sent = [text for r in requests for text in r.body["input"]]
    build = bot.index.open()
    hints = json.loads((build.path / HINTS_FILE).read_text(encoding="utf-8"))
    distinct = {embedding_text(c) for c in build.chunks} | {text for _, text in hints}
    assert len(sent) == len(distinct) + _routing_examples(knowledge) + 1
    assert distinct <= set(sent)
    assert answer.answered and answer.citations


def test_a_reload_with_nothing_changed_makes_no_request(
    fake: FakeOpenAI, knowledge: Path, tmp_path: Path
) -> None:
    PolicyBot(settings(tmp_path / "data", knowledge)).reload_documents()
    before = len(fake.requests)

    report = PolicyBot(settings(tmp_path / "data", knowledge)).reload_documents()

    assert not report.rebuilt
    assert len(fake.requests) == before


def test_an_index_built_by_another_embedder_is_refused_with_a_reload_hint(
    fake: FakeOpenAI, knowledge: Path, tmp_path: Path
) -> None:
    local = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)
    PolicyBot(local, embedder=FakeEmbedder).reload_documents()
    bot = PolicyBot(settings(tmp_path / "data", knowledge))

    with pytest.raises(EmbedderMismatchError, match="policybot reload") as refused:
        bot.ask(LUNCH)

    assert "fake:bag-of-words" in str(refused.value) and NAME in str(refused.value)
    assert fake.requests == []  # the name was known without asking the server


def test_vectors_are_batched_unit_float32_in_input_order(fake: FakeOpenAI) -> None:
    config = LLMConfig.from_settings(Settings.from_env())
    assert config is not None
    texts = [f"clause {i} about social media and email number {i}" for i in range(7)]

    vectors = OpenAIEmbedder(config, batch_size=3).embed(texts)

    assert vectors.dtype == np.float32 and vectors.shape == (7, FakeEmbedder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors, FakeEmbedder().embed(texts), atol=1e-6)
    assert [len(r.body["input"]) for r in fake.embedding_requests()] == [3, 3, 1]


def test_azure_embeddings_use_the_embedding_deployment(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "policy-chat")
    monkeypatch.setenv("OPENAI_EMBEDDING_MODEL", "policy-embed")
    config = LLMConfig.from_settings(Settings.from_env())
    assert config is not None
    embedder = OpenAIEmbedder(config)

    embedder.embed(["Can I use Facebook at lunchtime?"])

    assert embedder.name == "azure-openai:policy-embed"
    (request,) = fake.embedding_requests()
    assert request.path == "/openai/deployments/policy-embed/embeddings"
    assert request.headers["api-key"] == "azure-test-key"


def test_a_failing_server_is_a_knowledge_store_error(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/nowhere")  # every request gets 404
    config = LLMConfig.from_settings(Settings.from_env())
    assert config is not None

    with pytest.raises(KnowledgeStoreError, match="NotFoundError"):
        OpenAIEmbedder(config).embed(["anything"])


def test_openai_embeddings_need_a_key(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, knowledge: Path, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        PolicyBot(settings(tmp_path / "data", knowledge))
