"""Whether a message follows up the earlier question, how the two are combined, and the
model's rewrite with its checks and its offline fallback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.answers.retrieval import Evidence, QueryTerm
from bot.conversation.follow_up import (
    Understood,
    checked_rewrite,
    combine,
    cues,
    depends,
    new_topic,
    understand,
)
from bot.conversation.history import Turn
from bot.engine import PolicyBot

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FACEBOOK = Turn("Can I use Facebook at lunchtime?", "Can I use Facebook at lunchtime?", "a1", NOW)


@pytest.mark.parametrize(
    "text",
    [
        "and at lunch?",
        "what about on my own phone?",
        "What if it's a private account?",
        "same for Twitter?",
        "is that allowed?",
        "can we block him?",
        "even if I never say where I work?",
    ],
)
def test_follow_up_cues(text: str) -> None:
    assert cues(text) and not new_topic(text)


@pytest.mark.parametrize(
    "text",
    [
        "How long are quarantined emails kept?",
        "Who do I tell if I get a phishing email?",
        "Can I put my job title on LinkedIn?",
    ],
)
def test_questions_that_carry_their_own_subject_have_no_cues(text: str) -> None:
    assert not cues(text)


@pytest.mark.parametrize(
    "text",
    [
        "unrelated - can I record a Teams call?",
        "different question: who owns the YouTube channel?",
        "Another thing, can I use my work email for my club?",
        "totally different q - do the rules apply to councillors?",
        "Separate question - am I politically restricted?",
    ],
)
def test_a_message_that_says_it_changes_the_subject(text: str) -> None:
    assert new_topic(text)


def evidence(words: Sequence[str], found: Sequence[str] = ()) -> Evidence:
    """Search evidence whose question has ``words`` and whose first clause holds ``found``."""
    query = tuple(QueryTerm(w, frozenset({w}), 2.0) for w in words)
    return Evidence(query=query, hits=(), hit_terms=(frozenset(found),))


def taken(words: Sequence[str], p: float, found: Sequence[str] = ()) -> Understood:
    return Understood("text", evidence(words, found), p)


def test_a_cue_combines_unless_combining_costs_much() -> None:
    assert depends("and at lunch?", taken(["lunch"], 0.4), taken(["lunch"], 0.9, ["lunch"]))
    assert depends("and at lunch?", taken(["lunch"], 0.9), taken(["lunch"], 0.7, ["lunch"]))
    assert not depends("and at lunch?", taken(["lunch"], 0.9), taken(["lunch"], 0.3))


def test_without_cues_only_a_clear_gain_from_a_weak_start_combines() -> None:
    weak, strong = taken([], 0.1), taken(["record"], 0.95)
    assert depends("do i need to tell anyone?", weak, taken([], 0.9))
    assert not depends("do i need to tell anyone?", weak, taken([], 0.2))  # no clear gain
    assert not depends("Can I record a Teams call?", strong, taken(["record"], 0.99))


def test_a_new_subject_lost_in_the_combination_stays_alone() -> None:
    words = ["car", "park", "permit"]
    alone = taken(words, 0.3)
    assert not depends("car park permit cost?", alone, taken(words, 0.9, ["blog", "job"]))
    assert depends("car park permit cost?", alone, taken(words, 0.9, ["car", "park"]))
    assert not depends("unrelated - and at lunch?", taken(["lunch"], 0.1), taken([], 0.9))
    assert not depends("thanks, that's great!", taken(["great"], 0.1), taken(["great"], 0.9))


def test_the_follow_up_leads_the_combined_search() -> None:
    combined = combine(FACEBOOK, "and on my phone?")
    assert combined.startswith("and on my phone?")
    assert "Facebook at lunchtime" in combined


class Searches:
    """A search that knows a few texts, and records what it was asked."""

    def __init__(self, known: dict[str, float]) -> None:
        self.known = known
        self.asked: list[str] = []

    def __call__(self, text: str) -> tuple[Evidence, float]:
        self.asked.append(text)
        p = next((p for key, p in self.known.items() if key in text), 0.0)
        return evidence(["lunch"], ["lunch"]), p


def test_understand_without_a_window_searches_the_message_alone() -> None:
    search = Searches({"lunch": 0.9})
    understood = understand("and at lunch?", [], search)
    assert understood.turn is None and search.asked == ["and at lunch?"]


def test_understand_combines_a_follow_up_with_the_last_question() -> None:
    search = Searches({"Facebook": 0.9, "lunch": 0.2})
    understood = understand("and at lunch?", [FACEBOOK], search)
    assert understood.turn == FACEBOOK
    assert understood.searched == combine(FACEBOOK, "and at lunch?")
    assert understood.confidence == 0.9


class Rewrites:
    """A rewriter that gives a set reply, or raises it when it is an exception."""

    def __init__(self, reply: object) -> None:
        self.reply = reply
        self.calls = 0

    def rewrite(self, text: str, window: Sequence[Turn]) -> str | None:
        self.calls += 1
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply  # type: ignore[return-value]


def test_a_models_rewrite_is_searched_when_it_passes_the_checks() -> None:
    search = Searches({"Facebook": 0.9})
    rewriter = Rewrites("Can I use Facebook on my own phone at lunchtime?")
    understood = understand("and on my phone?", [FACEBOOK], search, rewriter=rewriter)
    assert understood.searched == "Can I use Facebook on my own phone at lunchtime?"
    assert understood.turn == FACEBOOK
    assert search.asked == ["and on my phone?", understood.searched]


def test_a_models_new_topic_is_answered_alone() -> None:
    search = Searches({"phishing": 0.9})
    text = "Who do I tell about a phishing email?"
    understood = understand(text, [FACEBOOK], search, rewriter=Rewrites(text))
    assert understood.turn is None and search.asked == [text]


@pytest.mark.parametrize(
    "reply", [None, "", "   ", "x" * 500, "?!", 42, RuntimeError("connection refused")]
)
def test_an_unusable_or_failed_rewrite_falls_back_to_the_offline_decision(reply: object) -> None:
    search = Searches({"Facebook": 0.9, "lunch": 0.2})
    rewriter = Rewrites(reply)
    understood = understand("and at lunch?", [FACEBOOK], search, rewriter=rewriter)
    assert rewriter.calls == 1
    assert understood.searched == combine(FACEBOOK, "and at lunch?")  # the offline combination


def test_checked_rewrite_tidies_and_bounds() -> None:
    assert checked_rewrite("and at lunch?", [FACEBOOK], ' "Can I use Facebook at lunch?" ') == (
        "Can I use Facebook at lunch?"
    )
    too_long = "Can I use Facebook " * 10  # longer than the message and window together
    assert checked_rewrite("and at lunch?", [FACEBOOK], too_long) is None


# The real engine over the shipped documents, with conversations of our own.


def window_after(bot: PolicyBot, question: str) -> list[Turn]:
    answer = bot.ask(question)
    return [Turn(question, question, answer.id, NOW)]


def test_a_follow_up_is_answered_with_its_subject(real_bot: PolicyBot) -> None:
    window = window_after(real_bot, "Can I use Facebook at lunchtime?")
    alone = real_bot.ask("what about on my own phone?")
    followed = real_bot.ask("what about on my own phone?", window)
    assert not alone.answered and not alone.context_id
    assert followed.answered and followed.context_id == window[0].answer_id
    assert "Facebook at lunchtime" in followed.searched
    assert "own phone" in followed.text and "lunch" in followed.text
    assert followed.question == "what about on my own phone?"  # shown as asked


@pytest.mark.parametrize(
    "text",
    [
        "Who do I tell if I get a phishing email?",
        "unrelated - how long are quarantined emails kept?",
    ],
)
def test_a_new_topic_is_answered_alone(real_bot: PolicyBot, text: str) -> None:
    window = window_after(real_bot, "Can I use Facebook at lunchtime?")
    answer = real_bot.ask(text, window)
    alone = real_bot.ask(text)
    assert not answer.context_id and not answer.searched
    assert answer.text == alone.text and answer.citations == alone.citations
