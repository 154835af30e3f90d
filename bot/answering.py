"""Extractive answers: the best sentences of the best clauses, never invented text.

Whether to answer at all is the learned gate's decision (:mod:`bot.gate`), from the
signals the search reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.gate import Gate, Gates
from bot.models import Chunk, Citation
from bot.retrieval import Evidence, Hit
from bot.text import sentences, term_set

#: Below the gate's threshold the engine says it could not find the answer; between this
#: and that threshold it shows the nearest clauses, marked as such, without an answer.
RELATED_THRESHOLD = 0.15
#: Citations after the first must score at least this share of the first's fused score.
CITATION_SHARE = 0.45
MAX_CITATIONS = 3
#: A runner-up clause joins the answer when it scores this share of the best one...
RUNNER_UP_SHARE = 0.75
#: ...and matches question words the best one lacks, worth at least this much idf.
RUNNER_UP_MIN_IDF = 2.5
MAX_ANSWER_SENTENCES = 2
#: A clause this short is quoted whole in the answer.
SHORT_CLAUSE = 320
#: A list longer than this (characters) is cut to its most relevant items.
LONG_LIST = 520
MAX_LIST_ITEMS = 3
QUOTE_CHARS = 600

#: Finds the clause a sentence of a chunk refers to, if any.
Resolver = Callable[[Chunk, str], Chunk | None]

RELATED = "The closest clauses I found are below, in case they help."

NOT_FOUND = (
    "I couldn't find this in the policy documents. If you need an answer, I can pass your "
    "question to the HR Advisory team or the Communications team."
)


@dataclass(frozen=True)
class Draft:
    """An extractive answer before routing: its text, citations and confidence."""

    answered: bool
    text: str
    citations: tuple[Citation, ...]
    confidence: float


def confidence(evidence: Evidence, gate: Gate | None = None) -> float:
    """How sure we are that the documents answer the question, 0..1.

    The learned gate's probability (see :mod:`bot.gate`); a question about another
    organisation's rules ("Leicester City Council's policy") is never covered by these
    documents, which are one council's own.
    """
    if not evidence.hits or not evidence.query or evidence.other_bodies:
        return 0.0
    return (gate or Gates.packaged().full).probability(evidence)


def draft(
    evidence: Evidence, *, resolve: Resolver | None = None, gate: Gate | None = None
) -> Draft:
    """Compose the answer from what the search found.

    Args:
        evidence: the search result for the question.
        resolve: finds the clause a cross-reference ("clause 4.3 of the policy") names,
            so that an answer pointing elsewhere also gives what it points to.
    """
    gate = gate or Gates.packaged().full
    score = confidence(evidence, gate)
    if score < RELATED_THRESHOLD:
        return Draft(False, NOT_FOUND, (), score)
    if score < gate.threshold:
        # Not sure enough to answer, but close: show the nearest clauses, marked as such.
        related = tuple(_citation(h) for h in evidence.hits[:MAX_CITATIONS])
        return Draft(False, f"{NOT_FOUND} {RELATED}", related, score)
    weights = {a: q.idf for q in evidence.query for a in q.alternatives}
    hits = _cited(evidence.hits)
    best = hits[0]
    lead = _best_sentences(best.chunk.text, weights)
    paragraphs = [f"{lead} ({_reference(best.chunk)})"]
    referenced = resolve(best.chunk, lead) if resolve else None
    if referenced is not None and referenced.id != best.chunk.id:
        extra = _best_sentences(referenced.text, weights)
        paragraphs.append(f"{extra} ({_reference(referenced)})")
        cited = [h for h in hits if h.chunk.id != referenced.id]
        hits = [best, Hit(referenced, best.score, best.dense, best.keyword), *cited[1:]]
    elif (runner := _complement(evidence, hits)) is not None:
        extra = _best_sentences(runner.chunk.text, weights)
        paragraphs.append(f"{extra} ({_reference(runner.chunk)})")
    return Draft(
        True,
        "\n\n".join(paragraphs),
        tuple(_citation(h) for h in hits[:MAX_CITATIONS]),
        score,
    )


def _complement(evidence: Evidence, hits: list[Hit]) -> Hit | None:
    """A close runner-up clause that covers words of the question the best one misses.

    When two clauses score alike, the best may answer only part of the question (the
    guidance names the rule, the procedure gives the figure); the runner-up then adds
    what it alone says.
    """
    if len(hits) < 2 or len(evidence.hit_terms) < 2:
        return None
    runner = hits[1]
    if runner.score < RUNNER_UP_SHARE * hits[0].score:
        return None
    first, second = evidence.hit_terms[0], evidence.hit_terms[1]
    novel = sum(
        q.idf for q in evidence.query if q.alternatives & second and not q.alternatives & first
    )
    return runner if novel >= RUNNER_UP_MIN_IDF else None


def _cited(hits: tuple[Hit, ...]) -> list[Hit]:
    top = hits[0].score
    return [h for h in hits[:MAX_CITATIONS] if h is hits[0] or h.score >= CITATION_SHARE * top]


def _best_sentences(text: str, weights: dict[str, float]) -> str:
    """The part of a clause that answers the question, as markdown.

    A short clause is given whole. Otherwise the sentences sharing the rarest words with
    the question are kept, in their order; when the question is about a list the clause
    introduces, the answer is that introduction and the list (its most relevant items
    when it is long), after the best sentence before it.
    """
    units = sentences(text)
    if len(text) <= SHORT_CLAUSE or len(units) <= MAX_ANSWER_SENTENCES:
        return _markdown(units)
    relevance = [sum(weights.get(t, 0.0) for t in term_set(u)) for u in units]
    intro = next((i for i, u in enumerate(units[:-1]) if u.endswith(":")), None)
    body = [i for i in range(len(units)) if intro is None or i < intro]
    best_body = max(body, key=lambda i: relevance[i], default=None)
    if intro is not None:
        items = list(range(intro + 1, len(units)))
        list_relevance = max(relevance[intro:])
        if best_body is None or list_relevance * 1.5 >= relevance[best_body]:
            if sum(len(units[i]) for i in items) > LONG_LIST:
                items = sorted(sorted(items, key=lambda i: -relevance[i])[:MAX_LIST_ITEMS])
            lead = [units[best_body]] if best_body is not None else []
            return _markdown(
                [*lead, units[intro], *(units[i] for i in items)], list_from=len(lead) + 1
            )
    ranked = sorted(body, key=lambda i: -(relevance[i] + (0.5 if i == 0 else 0.0)))
    return _markdown([units[i] for i in sorted(ranked[:MAX_ANSWER_SENTENCES])])


def _markdown(units: list[str], *, list_from: int | None = None) -> str:
    """Join sentences into a paragraph, or an introduction and bullet items."""
    if list_from is None:
        return _end(" ".join(units))
    head = " ".join(units[:list_from])
    items = "\n".join(f"- {_end(u)}" for u in units[list_from:])
    return f"{head}\n{items}"


def _end(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if text.endswith((".", "?", "!", ":", ")")):
        return text
    return re.sub(r"(?:;|,)?(?: and| or)?$", "", text) + "."


def _reference(chunk: Chunk) -> str:
    return f"{chunk.document_title}, {chunk.section}"


def _citation(hit: Hit) -> Citation:
    quote = hit.chunk.text
    if len(quote) > QUOTE_CHARS:
        quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return Citation(
        source=hit.chunk.source,
        section=hit.chunk.section,
        title=hit.chunk.title,
        quote=quote,
        score=hit.score,
        document_title=hit.chunk.document_title,
    )
