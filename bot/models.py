"""Value objects shared by the core and the adapters.

Documents come in as :class:`Document` (sections of numbered :class:`Clause`), are indexed
as :class:`Chunk`, and questions go out as :class:`Answer`, whose ``text`` is neutral
markdown that each adapter renders its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Team = Literal["hr", "communications"]
TEAMS: tuple[Team, ...] = ("hr", "communications")
TEAM_NAMES: dict[Team, str] = {"hr": "HR Advisory team", "communications": "Communications team"}
#: Whom a language model judges the asker needs: a team, or nobody.
Route = Literal["hr", "communications", "none"]
ROUTES: tuple[Route, ...] = ("hr", "communications", "none")


@dataclass(frozen=True)
class Clause:
    """One numbered clause (``4.2``) or numbered question-and-answer item of a document.

    Attributes:
        number: the clause number as written in the document.
        text: the clause text, lettered items included, without its number.
        section_number: the number of the section it belongs to (``4``), or ``""``.
        section_title: the title of that section.
        heading: the clause's own heading, for question-and-answer items (the question).
        heading_path: the headings above the clause, document title first.
    """

    number: str
    text: str
    section_number: str
    section_title: str
    heading: str = ""
    heading_path: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """What a citation calls the clause: its own heading, else its section's title."""
        return self.heading or self.section_title


@dataclass(frozen=True)
class Section:
    """A numbered section of a document and its clauses."""

    number: str
    title: str
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Document:
    """A policy document as the loaders read it, whatever its file format."""

    source: str
    title: str
    sections: tuple[Section, ...]
    preamble: str = ""

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(clause for section in self.sections for clause in section.clauses)


@dataclass(frozen=True)
class Chunk:
    """The unit of retrieval: a clause, or one overlapping part of a long clause."""

    id: str
    source: str
    document_title: str
    section: str
    title: str
    text: str
    part: int = 0
    heading_path: tuple[str, ...] = ()

    def metadata(self) -> dict[str, str | int]:
        return {
            "source": self.source,
            "document_title": self.document_title,
            "section": self.section,
            "title": self.title,
            "part": self.part,
            "heading_path": " > ".join(self.heading_path),
        }

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
        path = str(meta.get("heading_path", ""))
        return cls(
            id=chunk_id,
            source=str(meta["source"]),
            document_title=str(meta["document_title"]),
            section=str(meta["section"]),
            title=str(meta["title"]),
            text=text,
            part=int(meta.get("part", 0)),
            heading_path=tuple(path.split(" > ")) if path else (),
        )


@dataclass(frozen=True)
class Question:
    """A question as an adapter hands it to the core.

    Attributes:
        public: asked where others read the answer (a channel or group chat), not in a
            direct message or personal chat.
    """

    text: str
    user_id: str = "cli:local"
    platform: str = "cli"
    conversation: str = ""
    display_name: str = ""
    public: bool = False
    #: The conversation the question is asked in, as the adapter names it (a Slack thread or
    #: DM, a Teams conversation, a console session): a follow-up there is understood with
    #: its earlier questions (:mod:`bot.conversation.history`). Empty for a question asked alone.
    thread: str = ""


@dataclass(frozen=True)
class Citation:
    """A clause an answer rests on."""

    source: str
    section: str
    title: str
    quote: str
    score: float
    document_title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "section": self.section,
            "title": self.title,
            "quote": self.quote,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Escalation:
    """Whether a person should look at the question, and which team."""

    suggested: bool = False
    team: Team | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"suggested": self.suggested, "team": self.team, "reason": self.reason}


@dataclass(frozen=True)
class LLMUsage:
    """What a language-model call for an answer cost, and whether its answer was used.

    Attributes:
        model: the model (or Azure OpenAI deployment) that was asked.
        prompt_tokens: tokens sent, when the server reported them.
        completion_tokens: tokens received, when the server reported them.
        latency_ms: how long the model took, retries included.
        fallback: why the extractive answer was given instead (``timeout``,
            ``no_citation`` ...), or None when the model's answer was used.
    """

    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    fallback: str | None = None


@dataclass(frozen=True)
class ApprovedRef:
    """Which approved answer an answer was served from (see :mod:`bot.approved.service`).

    Attributes:
        id: the approved answer's id, ``A-0003``.
        team: the team whose reviewer approved it.
        approved_by: the reviewer's ``platform:user`` id.
        approved_at: when it was approved (ISO 8601, UTC).
        similarity: how close the question was to the approved one (0..1).
    """

    id: str
    team: Team
    approved_by: str
    approved_at: str
    similarity: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team": self.team,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "similarity": round(self.similarity, 4),
        }


@dataclass(frozen=True)
class Answer:
    """The core's reply to a question.

    Attributes:
        question: the question as asked (after trimming).
        answered: False when the documents do not cover the question.
        text: a short answer in neutral markdown.
        citations: the clauses the answer rests on, best first.
        escalation: the suggestion to hand the question to a team.
        confidence: 0..1, how sure the engine is that the documents answer it.
        notices: things the asker should know (a long question was cut, for example).
        elapsed_ms: time taken to answer.
        knowledge_version: the version of the index that answered.
        id: a short id staff give feedback by (``policybot feedback``, the buttons).
        usage: the language-model call made for this answer, if any (for the audit).
        private: the answer goes to the asker alone, though asked in public: it tells of
            their own situation (:func:`bot.answers.privacy.answer_privately`). The public
            conversation gets only :data:`bot.phrases.REPLIED_PRIVATELY`.
        context_id: the answer id of the earlier question in the conversation that this
            one was understood with (a follow-up); empty when it was answered alone.
        searched: what was searched for a follow-up (the earlier question and this one
            combined, or a language model's standalone rewrite); empty when answered alone.
        approved: the approved answer it was served from, if any.
    """

    question: str
    answered: bool
    text: str
    citations: tuple[Citation, ...] = ()
    escalation: Escalation = field(default_factory=Escalation)
    confidence: float = 0.0
    notices: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    knowledge_version: str = ""
    id: str = ""
    usage: LLMUsage | None = None
    private: bool = False
    context_id: str = ""
    searched: str = ""
    approved: ApprovedRef | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``policybot ask --json`` object (see DESIGN.md)."""
        return {
            "question": self.question,
            "answered": self.answered,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "escalation": self.escalation.to_json(),
            "notices": list(self.notices),
            "elapsed_ms": round(self.elapsed_ms, 2),
            "approved": self.approved.to_json() if self.approved else None,
        }
