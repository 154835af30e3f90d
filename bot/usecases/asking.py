"""Asking: answer a question, record it, and find the answer behind a button pressed later.

Every answer is written to the audit log; a failure to write it is logged and never keeps
staff from their answer. A follow-up in a conversation is understood with the conversation's
earlier questions (:mod:`bot.conversation.history`, :mod:`bot.conversation.follow_up`). An
answer to a personal situation told in public comes back ``private``
(:mod:`bot.answers.privacy`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from cachetools import LRUCache

from bot import phrases
from bot.answers.privacy import answer_privately
from bot.answers.questions import clean
from bot.approved.match import ApprovedMatcher
from bot.audit.contacts import ContactKeeper
from bot.conversation.history import Conversations, carries_subject
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Answer, Citation, Question
from bot.usecases.core import Core

log = logging.getLogger(__name__)

#: Seconds a lookup waits for the audit writer to finish before reading the audit.
SPOOL_WAIT = 2.0
#: Answers remembered per process, so that a button pressed later can escalate them.
RECENT_ANSWERS = 2048


class Asking:
    """Ask, and the answers given (see the module docstring).

    Args:
        core: the shared parts.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self._recent: LRUCache[str, tuple[Question, Answer]] = LRUCache(RECENT_ANSWERS)
        self._lock = threading.Lock()
        self.conversations = Conversations(
            lambda: core.state, quiet_minutes=core.settings.conversation_minutes
        )
        #: Who to tell when a clause their answer cited changes.
        self.contacts = ContactKeeper(lambda: core.work.contacts, background=core.spool is not None)
        #: Approved answers, served before the documents' own, from the case database.
        self.matcher = ApprovedMatcher(lambda: core.work.approved)

    def ask(self, question: Question) -> Answer:
        """See :meth:`bot.assistant.Assistant.ask`."""
        core = self._core
        window = self.conversations.window(question.platform, question.thread)
        answer = answer_privately(
            question,
            core.engine.ask(question, window, approved=self.matcher),
            enabled=core.settings.private_situations,
        )
        cleaned = clean(question.text)
        if question.thread and carries_subject(cleaned.text):
            self.conversations.add(
                question.platform,
                question.thread,
                asked=answer.question,
                searched=answer.searched or cleaned.text,
                answer_id=answer.id,
            )
        core.metrics.asked(answer.answered, answer.elapsed_ms / 1000)
        with self._lock:
            self._recent[answer.id] = (question, answer)
        if answer.answered and answer.citations and core.settings.notify_days > 0:
            self.contacts.keep(question)  # to tell them if a clause it cites changes
        if core.spool is not None:  # written behind the answer, whatever the database does
            core.spool.submit(question, answer, answer.usage)
            return answer
        try:
            core.work.audit.record(question, answer, usage=answer.usage)
        except Exception:  # the answer matters more than its audit row; the log keeps it
            log.exception("could not write the audit row of answer %s", answer.id)
        return answer

    def answered(self, answer_id: str, asker: Question | None = None) -> tuple[Question, Answer]:
        """See :meth:`bot.assistant.Assistant.answered`."""
        with self._lock:
            found = self._recent.get(answer_id)
        if found is not None:
            if asker is not None and found[0].user_id != asker.user_id:
                raise _not_theirs(asker, answer_id)
            return found
        core = self._core
        if core.spool is not None:
            try:  # an answer given a moment ago may still be in the spool
                core.spool.drain(wait=SPOOL_WAIT)
            except Exception:
                log.warning("the audit spool could not be written before a lookup")
        entry = core.work.audit.find(answer_id)
        if entry is None or asker is None:
            raise EscalationError(
                "I no longer have that answer to hand: please ask the question again."
            )
        if entry.asker not in {asker.user_id, core.work.audit.pseudonym(asker.user_id)}:
            raise _not_theirs(asker, answer_id)
        answer = Answer(
            question=entry.question,
            answered=entry.answered,
            text=entry.answer,
            citations=tuple(_citation(c) for c in entry.citations),
            knowledge_version=entry.knowledge_version,
            id=answer_id,
        )
        return replace(asker, text=entry.question), answer

    def close(self) -> None:
        self.contacts.close()


def _not_theirs(asker: Question, answer_id: str) -> NotAuthorizedError:
    log.warning("refused: %s may not escalate answer %.8s… (not theirs)", asker.user_id, answer_id)
    return NotAuthorizedError(phrases.NOT_YOUR_ANSWER)


def _citation(data: dict[str, Any]) -> Citation:
    return Citation(
        source=str(data.get("source", "")),
        section=str(data.get("section", "")),
        title=str(data.get("title", "")),
        quote=str(data.get("quote", "")),
        score=float(data.get("score", 0.0)),
    )
