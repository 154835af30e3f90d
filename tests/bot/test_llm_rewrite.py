"""A follow-up rewritten by a language model (the fake OpenAI server over real HTTP), checked,
and decided offline when the model fails, is slow or answers nonsense."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.conversation.follow_up import combine
from bot.conversation.history import Turn
from bot.conversation.rewrite import OpenAIRewriter, parse
from bot.engine import PolicyBot
from tests.fakes_openai import FakeOpenAI, Reply, completion

LUNCH = "Can I use Facebook at lunchtime?"
PHONE = "what about on my own phone?"
REWRITTEN = "Can I use Facebook on my own phone at lunchtime?"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_TIMEOUT", "2")
        yield server


@pytest.fixture
def bot(real_bot: PolicyBot, fake: FakeOpenAI) -> PolicyBot:
    """The engine over the shared index, with the fake model configured."""
    return PolicyBot(Settings.from_env(data_dir=real_bot.settings.data_dir))


@pytest.fixture
def window(real_bot: PolicyBot) -> list[Turn]:
    return [Turn(LUNCH, LUNCH, real_bot.ask(LUNCH).id, datetime.now(UTC))]


def rewrite(depends: bool, question: str = "") -> Reply:
    return completion(json.dumps({"depends": depends, "question": question}))


def test_the_models_standalone_question_is_searched(
    bot: PolicyBot, fake: FakeOpenAI, window: list[Turn]
) -> None:
    assert isinstance(bot.rewriter, OpenAIRewriter)
    fake.script(rewrite(True, REWRITTEN))
    answer = bot.ask(PHONE, window)
    assert answer.searched == REWRITTEN and answer.context_id == window[0].answer_id
    assert answer.answered and answer.question == PHONE
    sent = fake.chat_requests()[0].body
    assert sent["response_format"] == {"type": "json_object"}
    prompt = sent["messages"][-1]["content"]
    assert LUNCH in prompt and PHONE in prompt


def test_a_new_topic_by_the_model_is_answered_alone(
    bot: PolicyBot, fake: FakeOpenAI, window: list[Turn]
) -> None:
    text = "Who do I tell if I get a phishing email?"
    fake.script(rewrite(False, text))
    answer = bot.ask(text, window)
    assert not answer.context_id and not answer.searched


@pytest.mark.parametrize(
    "reply",
    [
        Reply({"error": {"message": "down"}}, status=500),
        completion("this is not JSON"),
        completion(json.dumps({"question": REWRITTEN})),  # no "depends"
        rewrite(True, ""),  # empty
        rewrite(True, "Facebook " * 60),  # far too long
        Reply(rewrite(True, REWRITTEN).body, delay=2.5),  # after OPENAI_TIMEOUT
    ],
    ids=["server-error", "not-json", "no-flag", "empty", "too-long", "timeout"],
)
def test_any_failure_falls_back_to_the_offline_combination(
    bot: PolicyBot, fake: FakeOpenAI, window: list[Turn], reply: Reply
) -> None:
    fake.script(reply)
    answer = bot.ask(PHONE, window)
    assert answer.searched == combine(window[0], PHONE)
    assert answer.context_id == window[0].answer_id and answer.answered


def test_no_window_asks_no_model_for_a_rewrite(bot: PolicyBot, fake: FakeOpenAI) -> None:
    bot.ask(LUNCH)
    prompts = [r.body["messages"][0]["content"] for r in fake.chat_requests()]
    assert not any("earlier questions" in p for p in prompts)


def test_parse_reads_the_flag_and_the_question() -> None:
    assert parse('{"depends": true, "question": "Q?"}', "x") == "Q?"
    assert parse('{"depends": false, "question": "Q?"}', "x") == "x"
    with pytest.raises(ValueError, match="not JSON"):
        parse(None, "x")
    with pytest.raises(ValueError, match='no "question"'):
        parse('{"depends": true}', "x")
