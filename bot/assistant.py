"""The one object adapters hold: answers, escalations, feedback and reloads together.

:class:`Assistant` joins the answer engine (:class:`~bot.engine.PolicyBot`) and the case
work (:class:`~bot.casework.Casework`). Every answer is written to the audit log; a failure
to write it is logged and never keeps staff from their answer.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.case_views import CaseView
from bot.cases import CaseRequest
from bot.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import EscalationError
from bot.index import Progress, ReloadReport
from bot.models import TEAMS, Answer, Citation, Question, Team

log = logging.getLogger(__name__)

#: Answers remembered per process, so that a button pressed later can escalate them.
RECENT_ANSWERS = 2048


class Assistant:
    """What staff, reviewers and admins can do, whatever the chat platform.

    Args:
        engine: the answer engine.
        casework: cases, outbox, audit and feedback; None when the database cannot be
            opened, so that staff still get answers (escalations then say why they fail).
    """

    def __init__(self, engine: PolicyBot, casework: Casework | None) -> None:
        self.engine = engine
        self.casework = casework
        self._recent: OrderedDict[str, tuple[Question, Answer]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> Assistant:
        """The engine over the live index and the case work over the configured database."""
        try:
            casework: Casework | None = Casework.open(settings)
        except Exception:
            log.exception("the case database cannot be opened: answering without it")
            casework = None
        return cls(PolicyBot(settings), casework)

    @property
    def work(self) -> Casework:
        """The case work, or EscalationError when its database is unavailable."""
        if self.casework is None:
            raise EscalationError(
                "Cases cannot be recorded right now (the database is unavailable); "
                "please contact the team directly."
            )
        return self.casework

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    def ask(self, question: Question) -> Answer:
        """Answer a question and record it, with any model call's cost, in the audit log."""
        answer = self.engine.ask(question)
        with self._lock:
            self._recent[answer.id] = (question, answer)
            while len(self._recent) > RECENT_ANSWERS:
                self._recent.popitem(last=False)
        try:
            self.work.audit.record(question, answer, usage=answer.usage)
        except Exception:  # the answer matters more than its audit row; the log keeps it
            log.exception("could not write the audit row of answer %s", answer.id)
        return answer

    def answered(self, answer_id: str, asker: Question | None = None) -> tuple[Question, Answer]:
        """The question and answer behind ``answer_id``.

        Answers are remembered in this process; an older one (or one given by another
        process, or before a restart) is read back from the audit log, with ``asker`` as
        who asked.

        Raises:
            EscalationError: the answer is unknown (purged, or never recorded).
        """
        with self._lock:
            found = self._recent.get(answer_id)
        if found is not None:
            return found
        entry = self.work.audit.find(answer_id)
        if entry is None or asker is None:
            raise EscalationError(
                "I no longer have that answer to hand: please ask the question again."
            )
        answer = Answer(
            question=entry.question,
            answered=entry.answered,
            text=entry.answer,
            citations=tuple(_citation(c) for c in entry.citations),
            knowledge_version=entry.knowledge_version,
            id=answer_id,
        )
        return replace(asker, text=entry.question), answer

    def escalate(
        self,
        answer_id: str,
        team: str,
        *,
        asker: Question | None = None,
        note: str = "",
        anonymous: bool = False,
    ) -> CaseView:
        """Hand an answered question to a team.

        Args:
            answer_id: the answer the asker wants a person to look at.
            team: ``hr`` or ``communications``.
            asker: who presses the button, when the adapter knows better than the answer
                (the same user, with a fresh conversation reference).
            note: what the asker adds for the team.
            anonymous: withhold the asker's identity from the reviewers.
        """
        question, answer = self.answered(answer_id, asker)
        if team not in TEAMS:
            raise EscalationError(f"Unknown team {team!r}: choose hr or communications.")
        chosen: Team = "hr" if team == "hr" else "communications"
        request = CaseRequest.from_answer(
            chosen, asker or question, answer, note=note, anonymous=anonymous
        )
        return self.work.cases.open(request)

    def feedback(
        self, answer_id: str, helpful: bool, *, comment: str = "", rater: str = ""
    ) -> None:
        """Record whether an answer helped."""
        self.work.feedback.record(answer_id, helpful, comment=comment, rater=rater)

    def reload(
        self,
        requested_by: str | None = None,
        *,
        knowledge_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> ReloadReport:
        """Reload the documents (admins only, when asked from a chat platform)."""
        return self.engine.reload_documents(
            requested_by, knowledge_dir=knowledge_dir, progress=progress
        )

    def close(self) -> None:
        if self.casework is not None:
            self.casework.close()


def _citation(data: dict[str, Any]) -> Citation:
    return Citation(
        source=str(data.get("source", "")),
        section=str(data.get("section", "")),
        title=str(data.get("title", "")),
        quote=str(data.get("quote", "")),
        score=float(data.get("score", 0.0)),
    )
