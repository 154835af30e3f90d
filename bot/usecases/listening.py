"""Listening: which messages in a conversation the bot takes part in.

A message addressed to the bot (an @-mention) is answered, and its conversation (a channel
thread) is noted, in the platform state every instance shares, as one the bot speaks in. A
later message there that does not address the bot is a follow-up only in such a
conversation, and is answered only when the documents answer it: people talk to each other
there too ("thanks!"), and the bot stays silent rather than apologise into their talk.
"""

from __future__ import annotations

from bot.models import Answer, Question
from bot.usecases.asking import Asking
from bot.usecases.core import Core


class Listening:
    """Follow-ups in conversations (see the module docstring).

    Args:
        core: the shared parts (the platform state).
        asking: answers.
    """

    def __init__(self, core: Core, asking: Asking) -> None:
        self._core = core
        self._asking = asking

    def listens(self, question: Question, *, addressed: bool) -> bool:
        """See :meth:`bot.assistant.Assistant.listens`."""
        state, thread = self._core.state, question.thread
        if addressed:
            if thread:
                state.mark_thread(question.platform, thread)
            return True
        has_text = bool(question.text.strip())
        return has_text and bool(thread) and state.answered_thread(question.platform, thread)

    def reply_to(self, question: Question, *, addressed: bool) -> Answer | None:
        """See :meth:`bot.assistant.Assistant.reply_to`."""
        answer = self._asking.ask(question)
        return answer if addressed or answer.answered else None
