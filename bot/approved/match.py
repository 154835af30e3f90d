"""Serving approved answers: a question close in meaning to an approved one gets its text.

:class:`ApprovedMatcher` compares the question's vector (the one retrieval has just made)
with the vectors of the active approved questions, embedded the same way. Only an answer that
rests on one of the clauses retrieval found for the question (its :data:`FOUND` best) is a
candidate: a near miss ("lunch break" beside "working time") usually finds other clauses, and
embeddings of short questions alone separate them poorly. The closest candidate is served at
or above :data:`THRESHOLD` of cosine similarity, and only while every clause it cites reads
as it did when it was approved.

The threshold is measured, not guessed: ``scripts/approved_threshold.py`` chooses it on the
tuning half of ``eval/approved/`` (paraphrases that must match, close but different questions
that must not) and reports precision and recall on the other half (see ``eval/README.md``).

Several instances share one database: the active answers are read from it, and each instance
keeps them in memory only while :meth:`bot.approved.service.ApprovedAnswers.version` says nothing
changed. That is asked at most every :data:`RECHECK_S` seconds rather than at every answer (one
database read fewer per answer); a change made in this process
(:func:`bot.approved.service.local_changes`) or a new live build is seen at once, one made by
another instance within :data:`RECHECK_S`. When the live build changes (a reload here or in
another process), the answers resting on a changed clause are suspended and their teams told
(:meth:`~bot.approved.service.ApprovedAnswers.suspend_changed`), once whichever instance sees
it first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.answers.questions import clean
from bot.approved.clauses import LiveClauses, live_clauses
from bot.approved.service import ApprovedAnswers, local_changes
from bot.approved.views import ApprovedView, clause_hash, label
from bot.errors import PolicyBotError
from bot.knowledge.embeddings import Vectors
from bot.models import ApprovedRef, Citation

log = logging.getLogger(__name__)

THRESHOLD = 0.55
"""Cosine similarity from which a question is answered with an approved answer (measured)."""
FOUND = 5
"""How many of the clauses retrieval ranks first for a question may make an approved answer
resting on one of them a candidate (the engine retrieves five)."""
RECHECK_S = 1.0
"""Seconds an instance serves its cached approved answers before it asks the database whether
another instance changed them."""
#: Characters of a cited clause quoted under an approved answer, as answers quote them.
QUOTE_CHARS = 600
#: Tries, and seconds between them, of a suspension the database's lock held up; each try
#: waits for the lock as an ordinary write does.
SUSPEND_ATTEMPTS = 10
SUSPEND_PAUSE = 5.0

#: Embeds a question as retrieval does (glossary expansions included).
QuestionVector = Callable[[str], Vectors]
#: A clause as retrieval finds it: (source, section).
ClauseRef = tuple[str, str]


@dataclass(frozen=True)
class Served:
    """An approved answer chosen for a question: the text to give, with its label, and the
    clauses it cites."""

    text: str
    citations: tuple[Citation, ...]
    ref: ApprovedRef


class ApprovedMatcher:
    """Finds the approved answer for a question (see the module docstring).

    Args:
        answers: gives the approved answers in the database; it raises
            :class:`~bot.errors.PolicyBotError` while the database is unavailable.
        threshold: the cosine similarity a question must reach.
        suspend: on a new live build, suspend the answers resting on a clause it changed
            (a write); False where a process only reads (the one-shot ``policybot ask``):
            such an answer is not served either way, and the server or the next reload
            suspends it and tells its team.
        recheck: seconds between reads of the database's version (see the module
            docstring).
        monotonic: the clock those seconds are read from (tests pass a fake).
    """

    def __init__(
        self,
        answers: Callable[[], ApprovedAnswers],
        *,
        threshold: float = THRESHOLD,
        suspend: bool = True,
        recheck: float = RECHECK_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._answers = answers
        self.threshold = threshold
        self._suspend = suspend
        self._recheck = recheck
        self._monotonic = monotonic
        #: When the database's version was last read (monotonic), and the local changes then.
        self._checked = float("-inf")
        self._local = -1
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._active: list[ApprovedView] = []
        self._vectors: dict[tuple[str, str, str], Vectors] = {}
        self._build = ""

    def serve(
        self, vector: Vectors, found: Sequence[ClauseRef], build: Path, embed: QuestionVector
    ) -> Served | None:
        """The approved answer for a question, or None (none close enough, or unavailable).

        Never raises: the documents' own answer is given whenever this fails.

        Args:
            vector: the question's vector, as retrieval made it.
            found: the clauses retrieval found for it, best first, as (source, section).
            build: the live build's directory (its clauses are checked against the ones
                each answer cites).
            embed: embeds an approved question the same way, on first use.
        """
        try:
            return self._serve(vector, found, build, embed)
        except PolicyBotError as exc:  # the database is down: said once per question, briefly
            log.warning("approved answers are unavailable: %s", exc)
            return None
        except Exception:  # an approved answer is a bonus; the documents still answer
            log.exception("approved answers could not be consulted: answering from the documents")
            return None

    def best(
        self, vector: Vectors, found: Sequence[ClauseRef], build: Path, embed: QuestionVector
    ) -> tuple[ApprovedView, float] | None:
        """The closest candidate (see the module docstring) whose clauses still stand, and
        its similarity, however low."""
        live = live_clauses(build)
        active = self._refresh(build, live)
        scored = [
            (view, float(vector @ self._vector(view, build, embed)))
            for view in active
            if rests_on(view, found) and _stands(view, live)
        ]
        return max(scored, key=lambda pair: pair[1], default=None)

    def _serve(
        self, vector: Vectors, found: Sequence[ClauseRef], build: Path, embed: QuestionVector
    ) -> Served | None:
        best = self.best(vector, found, build, embed)
        if best is None or best[1] < self.threshold:
            return None
        view, similarity = best
        when = view.approved_at
        ref = ApprovedRef(view.id, view.team, view.approved_by, when.isoformat(), similarity)
        citations = tuple(
            Citation(c.source, c.section, c.title, _quote(c.text), similarity) for c in view.clauses
        )
        return Served(f"**{label(view.team, when)}**\n\n{view.text}", citations, ref)

    def _refresh(self, build: Path, live: LiveClauses) -> list[ApprovedView]:
        """The active answers, read again when the database says they changed; on a new
        live build, first suspend those whose clauses it changed."""
        with self._lock:
            if build.name != self._build:
                if live and self._suspend:
                    self._suspend_changed(live)
                self._build = build.name
                self._vectors.clear()  # a build may bring a new glossary
                self._version = None
            now, local = self._monotonic(), local_changes()
            if (
                self._version is not None
                and local == self._local
                and now - self._checked < self._recheck
            ):
                return self._active
            answers = self._answers()
            version = answers.version()
            self._checked, self._local = now, local
            if version != self._version:
                self._active = answers.active()
                self._version = version
            return self._active

    def _suspend_changed(self, live: LiveClauses) -> None:
        """Suspend the answers a new build changed, without keeping the question waiting on
        another process's write lock: when the database is locked, a background thread does
        it once the lock is gone (until then :func:`_stands` already keeps those answers
        from being served)."""
        answers = self._answers()  # PolicyBotError while the database is unavailable
        try:
            answers.suspend_changed(live, brief=True)
        except Exception as exc:
            log.warning("approved answers: suspending waits for the database (%s)", exc)
            threading.Thread(
                target=_suspend_later, args=(answers, live), name="policybot-suspend", daemon=True
            ).start()

    def _vector(self, view: ApprovedView, build: Path, embed: QuestionVector) -> Vectors:
        key = (build.name, view.id, view.question)
        with self._lock:
            known = self._vectors.get(key)
        if known is None:
            known = np.asarray(embed(clean(view.question).text), dtype=np.float32)
            with self._lock:
                self._vectors[key] = known
        return known


def _suspend_later(answers: ApprovedAnswers, live: LiveClauses) -> None:
    """Suspend the answers ``live`` changed, waiting for the write lock, a few times over."""
    for attempt in range(1, SUSPEND_ATTEMPTS + 1):
        try:
            answers.suspend_changed(live)
        except Exception as exc:
            log.warning("approved answers: suspending failed (%s), attempt %d", exc, attempt)
            time.sleep(SUSPEND_PAUSE)
        else:
            return
    log.error("approved answers resting on changed clauses were not suspended: reload again")


def rests_on(view: ApprovedView, found: Sequence[ClauseRef]) -> bool:
    """Whether the answer cites one of the first :data:`FOUND` clauses found."""
    first = set(found[:FOUND])
    return any((clause.source, clause.section) in first for clause in view.clauses)


def _stands(view: ApprovedView, live: LiveClauses) -> bool:
    """Whether every clause the answer cites reads in the live build as when approved."""
    for clause in view.clauses:
        now_is = live.get(clause.key)
        if now_is is None or clause_hash(now_is.text) != clause.hash:
            return False
    return True


def _quote(text: str) -> str:
    if len(text) <= QUOTE_CHARS:
        return text
    return text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
