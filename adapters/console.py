"""The console adapter: ``policybot chat`` in a terminal, with readline history."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from bot import phrases
from bot.errors import PolicyBotError
from bot.models import TEAM_NAMES, Answer, Question

if TYPE_CHECKING:  # `policybot ask` renders with this module and needs no assistant
    from bot.assistant import Assistant

HELP = phrases.CONSOLE_HELP


def render(answer: Answer) -> RenderableType:
    """An answer as the terminal shows it: the answer, its clauses, the escalation offer."""
    parts: list[RenderableType] = [Markdown(answer.text)]
    for notice in answer.notices:
        parts.append(Text(notice, style="italic yellow"))
    for citation in answer.citations:
        heading = (
            f"{citation.document_title or citation.source} — {citation.section} {citation.title}"
        )
        parts.append(
            Panel(Text(citation.quote), title=heading, title_align="left", border_style="dim")
        )
    escalation = answer.escalation
    if escalation.suggested and escalation.team:
        parts.append(
            Text(f"{escalation.reason} Type /escalate {escalation.team} to ask them.", style="bold")
        )
    elif not answer.answered:
        teams = " or ".join(f"/escalate {t}" for t in TEAM_NAMES)
        parts.append(Text(f"To ask a person, type {teams}.", style="bold"))
    return Group(*parts)


class ConsoleChat:
    """A read–answer loop over an :class:`Assistant`.

    Args:
        assistant: answers, escalations and feedback.
        user: who is typing (``cli:<login name>``).
        console: where to print (a recording console in tests).
        read: reads one line; raises EOFError at the end (default: ``input``).
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        user: str = "cli:local",
        console: Console | None = None,
        read: Callable[[str], str] | None = None,
    ) -> None:
        self.assistant = assistant
        self.user = user
        self.console = console or Console()
        self._read = read or input
        self.last: Answer | None = None
        # One chat is one conversation: a follow-up is understood with what came before.
        self.thread = f"console/{secrets.token_hex(8)}"

    def run(self) -> None:
        history = self.assistant.settings.data_dir / "chat_history"
        with _readline_history(history if read_is_terminal(self._read) else None):
            self.say(HELP, style="dim")
            while True:
                try:
                    line = self._read("you> ")
                except (EOFError, KeyboardInterrupt):
                    self.console.print()
                    return
                if not self.handle(line):
                    return

    def say(self, text: str, style: str = "") -> None:
        """Print plain text: brackets in it ("[note]") are not rich markup."""
        self.console.print(text, style=style, markup=False, highlight=False)

    def handle(self, line: str) -> bool:
        """Answer one line; False when the user wants to leave."""
        command, _, rest = line.strip().partition(" ")
        # A bare "quit" or "help" is what people type first; it is never a policy question.
        bare = line.strip().lower().rstrip("!.?")
        if command in {"/quit", "/exit", "/q"} or bare in {"quit", "exit", "bye"}:
            return False
        if bare in {"help", "?"}:
            command = "/help"
        try:
            if command in {"/help", "/?"}:
                self.say(HELP)
            elif command == "/escalate":
                self._escalate(rest)
            elif command == "/feedback":
                self._feedback(rest)
            elif command.startswith("/"):
                self.say(phrases.unknown_command(command))
            elif line.strip():
                question = Question(text=line, user_id=self.user, thread=self.thread)
                self.last = self.assistant.ask(question)
                self.console.print(render(self.last))
        except PolicyBotError as exc:
            self.say(f"Sorry: {exc}", style="red")
        return True

    def _escalate(self, rest: str) -> None:
        team, _, note = rest.strip().partition(" ")
        if team not in TEAM_NAMES:
            self.say(phrases.ESCALATE_USAGE)
            return
        if self.last is None:
            self.say(phrases.ESCALATE_FIRST)
            return
        escalated = self.assistant.escalate(self.last.id, team, note=note.strip())
        case = escalated.case
        on_a_platform = bool(self.assistant.settings.platforms)
        self.say(
            phrases.passed_on_here(
                case.id, case.team, again=escalated.again, on_a_platform=on_a_platform
            )
        )

    def _feedback(self, rest: str) -> None:
        vote, _, comment = rest.strip().partition(" ")
        if vote not in {"up", "down"} or self.last is None:
            self.say(phrases.FEEDBACK_USAGE)
            return
        self.assistant.feedback(
            self.last.id, vote == "up", comment=comment.strip(), rater=self.user
        )
        self.say(phrases.FEEDBACK_THANKS)


def read_is_terminal(read: Callable[[str], str]) -> bool:
    import sys

    return read is input and sys.stdin.isatty()


@contextlib.contextmanager
def _readline_history(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        yield
        return
    try:
        import readline
    except ImportError:  # not on every platform
        yield
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
