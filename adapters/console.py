"""The console adapter: ``policybot chat`` in a terminal, with readline history."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from bot.engine import PolicyBot
from bot.errors import PolicyBotError
from bot.models import TEAM_NAMES, Answer

HELP = (
    "Ask a question about the Electronic Communication and Social Media Policy, e.g. "
    "“Can I use Facebook at lunchtime?”. Commands: /help, /quit."
)


def render(answer: Answer) -> RenderableType:
    """An answer as the terminal shows it: the answer, its clauses, the escalation offer."""
    parts: list[RenderableType] = [Markdown(answer.text)]
    for notice in answer.notices:
        parts.append(Text(notice, style="italic yellow"))
    for citation in answer.citations:
        heading = f"{citation.document_title or citation.source} — {citation.section} {citation.title}"
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
    """A read–answer loop over a :class:`PolicyBot`.

    Args:
        bot: the engine.
        console: where to print (a recording console in tests).
        read: reads one line; raises EOFError at the end (default: ``input``).
    """

    def __init__(
        self,
        bot: PolicyBot,
        *,
        console: Console | None = None,
        read: Callable[[str], str] | None = None,
    ) -> None:
        self.bot = bot
        self.console = console or Console()
        self._read = read or input
        self.last: Answer | None = None

    def run(self) -> None:
        history = self.bot.settings.data_dir / "chat_history"
        with _readline_history(history if read_is_terminal(self._read) else None):
            self.console.print(HELP, style="dim")
            while True:
                try:
                    line = self._read("you> ")
                except (EOFError, KeyboardInterrupt):
                    self.console.print()
                    return
                if not self.handle(line):
                    return

    def handle(self, line: str) -> bool:
        """Answer one line; False when the user wants to leave."""
        command = line.strip()
        if command in {"/quit", "/exit", "/q"}:
            return False
        if command in {"/help", "/?"}:
            self.console.print(HELP)
            return True
        if not command:
            return True
        try:
            self.last = self.bot.ask(line)
        except PolicyBotError as exc:
            self.console.print(f"Sorry, I can't answer right now: {exc}", style="red")
            return True
        self.console.print(render(self.last))
        return True


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
