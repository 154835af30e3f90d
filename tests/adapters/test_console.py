"""The console chat as a transcript: ask, read the clauses, escalate, give feedback."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console import ConsoleChat
from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot


@pytest.fixture
def assistant(real_bot: PolicyBot, tmp_path: Path) -> Iterator[Assistant]:
    work = Casework.open(Settings(data_dir=tmp_path, admins=frozenset({"cli:admin"})))
    yield Assistant(real_bot, work)
    work.close()


class Transcript:
    """Drives a ConsoleChat line by line and returns what it printed."""

    def __init__(self, assistant: Assistant) -> None:
        self.out = io.StringIO()
        console = Console(file=self.out, width=100, color_system=None)
        self.chat = ConsoleChat(assistant, user="cli:jo", console=console)

    def say(self, line: str) -> str:
        start = self.out.tell()
        assert self.chat.handle(line)
        return self.out.getvalue()[start:]


def test_an_answer_shows_its_clauses(assistant: Assistant) -> None:
    said = Transcript(assistant).say("How long are quarantined emails kept?")
    assert "30 days" in said
    assert "Email and Internet Acceptable Use Standard — 5.3" in said


def test_escalating_the_last_answer_opens_a_case_for_the_team(assistant: Assistant) -> None:
    chat = Transcript(assistant)
    chat.say("A journalist has just phoned me about a Council decision. What should I do?")
    said = chat.say("/escalate communications they want a quote by 5pm")
    assert "Communications team" in said and "COM-0001" in said
    # No chat platform is configured here: the console says where the team will see it.
    assert "policybot escalations list" in said and "their channel" not in said
    case = assistant.work.cases.get("COM-0001")
    assert case.team == "communications"
    assert case.note == "they want a quote by 5pm"
    assert "journalist" in case.question
    assert case.citations  # the clauses the bot cited travel with the case


def test_escalate_needs_a_team_and_a_question_first(assistant: Assistant) -> None:
    chat = Transcript(assistant)
    assert "Ask your question first" in chat.say("/escalate hr")
    chat.say("Can I use Facebook at lunch?")
    assert "Usage: /escalate hr|communications" in chat.say("/escalate payroll")
    assert assistant.work.cases.list() == []


def test_feedback_is_recorded_against_the_answer(assistant: Assistant) -> None:
    chat = Transcript(assistant)
    chat.say("How many hashtags should I use in a post?")
    assert "Thank you" in chat.say("/feedback down too short")
    summary = assistant.work.feedback.summary()
    assert (summary.helpful, summary.not_helpful) == (0, 1)
    assert [c.comment for c in summary.comments] == ["too short"]


def test_every_answer_is_audited_with_a_pseudonym(assistant: Assistant) -> None:
    Transcript(assistant).say("How long does the Council keep internet access logs?")
    (entry,) = assistant.work.audit.entries()
    assert entry.question == "How long does the Council keep internet access logs?"
    assert entry.answered
    assert entry.asker != "cli:jo"
    assert entry.knowledge_version == assistant.engine.knowledge_version


def test_unknown_commands_and_quit(assistant: Assistant) -> None:
    chat = Transcript(assistant)
    assert "Unknown command /frobnicate" in chat.say("/frobnicate")
    assert chat.chat.handle("/quit") is False


def test_bare_help_and_quit_are_commands_not_questions(assistant: Assistant) -> None:
    chat = Transcript(assistant)
    assert "Commands:" in chat.say("help") and chat.chat.last is None
    assert "Commands:" in chat.say("Help?")
    assert chat.chat.handle("quit") is False and chat.chat.handle("exit") is False


def test_answers_still_come_when_the_case_database_is_down(real_bot: PolicyBot) -> None:
    chat = Transcript(Assistant(real_bot, None))
    assert "30 days" in chat.say("How long are quarantined emails kept?")
    assert "database is unavailable" in chat.say("/escalate hr")
