"""Hints written by a language model for clauses that have none, against a fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.llm.hints import CACHE_FILE
from tests.fakes import FakeEmbedder
from tests.fakes_openai import FakeOpenAI, completion, error

DOCUMENT = """# Pigeon Procedure

## 1. Feeding

1.1 Staff must not feed pigeons on Council premises.

1.2 Report a nest on a Council building to Facilities within 2 working days.

1.3 Bird droppings on a path are cleaned by the Street Scene team.
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        yield server


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    (folder / "hints").mkdir(parents=True)
    (folder / "pigeon-procedure.md").write_text(DOCUMENT, encoding="utf-8")
    # The policy owner wrote hints for 1.1 only.
    (folder / "hints" / "pigeon-procedure.toml").write_text(
        '["1.1"]\nquestions = ["can i give the birds my sandwich crusts"]\n', encoding="utf-8"
    )
    return folder


def bot(knowledge: Path, data: Path) -> PolicyBot:
    settings = Settings.from_env(data_dir=data, knowledge_dir=knowledge)
    return PolicyBot(settings, embedder=FakeEmbedder)


def written(*labels: str) -> dict[str, object]:
    return {
        "clauses": [
            {"label": label, "questions": [f"question {n} for {label}" for n in range(4)]}
            for label in labels
        ]
    }


def test_clauses_without_hints_get_the_models_and_the_rest_keep_their_own(
    knowledge: Path, tmp_path: Path, fake: FakeOpenAI
) -> None:
    fake.script(completion(json.dumps(written("C1", "C2"))))
    engine = bot(knowledge, tmp_path / "data")

    report = engine.reload_documents()

    (request,) = fake.chat_requests()
    user = request.body["messages"][1]["content"]
    assert "[C1] Pigeon Procedure, section 1.2" in user and "section 1.3" in user
    assert "section 1.1" not in user  # it has hints of its own
    assert (report.hints, report.hints_generated) == (9, 8)
    assert "8 written by the model" in report.summary()
    hints = engine.retriever().hints.values()
    assert sorted(len(h) for h in hints) == [1, 4, 4]
    assert any("question 0 for C2" in h for h in hints)


def test_the_models_hints_are_cached_by_clause_and_asked_for_again_only_when_it_changes(
    knowledge: Path, tmp_path: Path, fake: FakeOpenAI
) -> None:
    fake.script(completion(json.dumps(written("C1", "C2"))))
    engine = bot(knowledge, tmp_path / "data")
    engine.reload_documents()
    document = knowledge / "pigeon-procedure.md"
    document.write_text(DOCUMENT.replace("2 working days", "5 working days"), encoding="utf-8")
    fake.script(completion(json.dumps(written("C1"))))

    report = engine.reload_documents()

    first, second = fake.chat_requests()
    assert "section 1.2" in second.body["messages"][1]["content"]  # the changed clause
    assert "section 1.3" not in second.body["messages"][1]["content"]  # from the cache
    assert report.hints_generated == 8
    cache = json.loads((tmp_path / "data" / "index" / CACHE_FILE).read_text(encoding="utf-8"))
    assert len(cache) == 2  # the old wording of 1.2 is no longer kept


def test_a_failing_model_leaves_clauses_without_hints_and_the_reload_succeeds(
    knowledge: Path, tmp_path: Path, fake: FakeOpenAI
) -> None:
    fake.script(error(500, "down"), error(500, "down"), error(500, "down"))
    engine = bot(knowledge, tmp_path / "data")

    report = engine.reload_documents()

    assert report.rebuilt and (report.hints, report.hints_generated) == (1, 0)
    found = engine.retriever().search("who cleans bird droppings on a path").hits
    assert found[0].chunk.section == "1.3"  # found by its own words


def test_a_reply_of_another_shape_writes_no_hints(
    knowledge: Path, tmp_path: Path, fake: FakeOpenAI
) -> None:
    fake.script(completion('{"clauses": "none"}'))

    report = bot(knowledge, tmp_path / "data").reload_documents()

    assert report.hints_generated == 0


def test_without_a_model_no_hints_are_written(
    knowledge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    report = bot(knowledge, tmp_path / "data").reload_documents()

    assert (report.hints, report.hints_generated) == (1, 0)
