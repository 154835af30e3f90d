"""Which conversation messages the bot takes part in (Assistant.listens, reply_to)."""

from __future__ import annotations

from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.engine import PolicyBot
from bot.models import Question

QUESTION = "A journalist has just phoned me asking about a Council decision. What should I do?"


def said(text: str, thread: str = "C1/100.1") -> Question:
    return Question(text=text, user_id="slack:U1", platform="slack", thread=thread)


def test_a_thread_is_followed_once_the_bot_was_addressed_there(
    real_bot: PolicyBot, work: Casework
) -> None:
    assistant = Assistant(real_bot, work)
    assert not assistant.listens(said("and on Twitter?"), addressed=False)

    assert assistant.listens(said(QUESTION), addressed=True)
    assert assistant.listens(said("and on Twitter?"), addressed=False)
    other = Assistant(real_bot, work)  # another instance, on the same database
    assert other.listens(said("and on Twitter?"), addressed=False)
    assert not other.listens(said("and on Twitter?", thread="C1/200.2"), addressed=False)
    assert not other.listens(said("   "), addressed=False)  # nothing to answer
    teams = Question(
        text="and on Twitter?", user_id="teams:U1", platform="teams", thread="C1/100.1"
    )
    assert not other.listens(teams, addressed=False)  # each platform's threads are its own


def test_a_follow_up_nobody_addressed_is_answered_only_from_the_documents(
    real_bot: PolicyBot, work: Casework
) -> None:
    assistant = Assistant(real_bot, work)
    assert assistant.listens(said(QUESTION), addressed=True)

    chat = "thanks, that's great!"
    assert assistant.reply_to(said(chat), addressed=False) is None  # people talk there too
    addressed = assistant.reply_to(said(chat), addressed=True)
    assert addressed is not None and not addressed.answered  # asked of the bot: it says so
    answered = assistant.reply_to(said(QUESTION), addressed=False)
    assert answered is not None and answered.answered
