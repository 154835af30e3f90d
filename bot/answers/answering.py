"""Extractive answers: the best sentences of the best clauses, never invented text.

Whether to answer at all is the learned gate's decision (:mod:`bot.answers.gate`), from the
signals the search reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.answers.choice import CANDIDATES, Chooser, Choosers
from bot.answers.gate import Gate, Gates
from bot.answers.retrieval import Evidence, Hit
from bot.answers.text import sentences, term_set
from bot.models import Chunk, Citation, Route

#: Below the gate's threshold the engine says it could not find the answer; between this
#: and that threshold it shows the nearest clauses, marked as such, without an answer.
RELATED_THRESHOLD = 0.15
#: Citations after the first must score at least this share of the first's fused score.
CITATION_SHARE = 0.45
MAX_CITATIONS = 3
#: A second clause joins the answer when the chooser finds it this likely to answer the
#: question, relative to the first and absolutely...
SECOND_SHARE = 0.6
SECOND_MIN = 0.3
#: ...unless it is in another document and shares this much of its vocabulary with the
#: first: it restates it (guidance repeating the policy).
REPEAT_OVERLAP = 0.4
MAX_ANSWER_SENTENCES = 2
#: A clause this short is quoted whole in the answer.
SHORT_CLAUSE = 320
QUOTE_CHARS = 600

#: Finds the clause a sentence of a chunk refers to, if any.
Resolver = Callable[[Chunk, str], Chunk | None]

_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)

RELATED = "The closest clauses I found are below, in case they help."

NOT_FOUND = (
    "I couldn't find this in the policy documents. If you need an answer, I can pass your "
    "question to the HR Advisory team or the Communications team."
)


@dataclass(frozen=True)
class Draft:
    """An answer before routing: its text, citations and confidence.

    ``route`` is a language model's judgement of whom the asker needs ("hr",
    "communications" or "none"), when a model answered; None leaves routing to the engine.
    """

    answered: bool
    text: str
    citations: tuple[Citation, ...]
    confidence: float
    route: Route | None = None
    #: Every clause the search found, as a citation, most likely to answer first: what a
    #: language model chooses among.
    candidates: tuple[Citation, ...] = ()


def confidence(evidence: Evidence, gate: Gate | None = None) -> float:
    """How sure we are that the documents answer the question, 0..1.

    The learned gate's probability (see :mod:`bot.answers.gate`); a question about another
    organisation's rules ("Leicester City Council's policy") is never covered by these
    documents, which are one council's own.
    """
    if not evidence.hits or not evidence.query or evidence.other_bodies:
        return 0.0
    return (gate or Gates.packaged().full).probability(evidence)


def draft(
    evidence: Evidence,
    *,
    resolve: Resolver | None = None,
    gate: Gate | None = None,
    chooser: Chooser | None = None,
) -> Draft:
    """Compose the answer from what the search found.

    Args:
        evidence: the search result for the question.
        resolve: finds the clause a cross-reference ("clause 4.3 of the policy") names,
            so that an answer pointing elsewhere also gives what it points to.
        gate: decides whether to answer (default: the shipped one).
        chooser: picks the clauses to answer from (default: the shipped one).
    """
    gate = gate or Gates.packaged().full
    score = confidence(evidence, gate)
    if score < RELATED_THRESHOLD:
        return Draft(False, NOT_FOUND, (), score)
    chances = (chooser or Choosers.packaged().full).probabilities(evidence)
    candidates = tuple(
        citation(hit, chance)
        for chance, hit in sorted(zip(chances, evidence.hits, strict=True), key=lambda c: -c[0])
    )
    if score < gate.threshold:
        # Not sure enough to answer, but close: show the nearest clauses, marked as such.
        related = candidates[:MAX_CITATIONS]
        return Draft(False, f"{NOT_FOUND} {RELATED}", related, score, candidates=candidates)
    weights = {a: q.idf for q in evidence.query for a in q.alternatives}
    lead, second = _choose(evidence, chances)
    text = _best_sentences(evidence.hits[lead].chunk.text, weights)
    paragraphs = [f"{text} ({_reference(evidence.hits[lead].chunk)})"]
    cited = [(evidence.hits[lead], chances[lead])]
    referenced = resolve(evidence.hits[lead].chunk, text) if resolve else None
    if referenced is not None and referenced.id != evidence.hits[lead].chunk.id:
        # The clause the first points to answers with it, as likely as it is.
        cited.append((Hit(referenced, 0.0, 0.0, 0.0), chances[lead]))
    elif second is not None:
        cited.append((evidence.hits[second], chances[second]))
    for hit, _ in cited[1:]:
        paragraphs.append(f"{_best_sentences(hit.chunk.text, weights)} ({_reference(hit.chunk)})")
    return Draft(
        True,
        "\n\n".join(paragraphs),
        _cited(evidence, chances, cited),
        score,
        candidates=candidates,
    )


def _choose(evidence: Evidence, chances: list[float]) -> tuple[int, int | None]:
    """The clause the answer leads with, and a second one nearly as likely to answer, as
    positions in the search's hits; only the first few candidates are weighed.

    The second is left out when it repeats the first (a guidance paragraph restating the
    policy clause) or opens with the opposite of the first's "Yes"/"No".
    """
    weighed = chances[:CANDIDATES]
    order = sorted(range(len(weighed)), key=lambda i: -weighed[i])
    lead = order[0]
    for i in order[1:]:
        if weighed[i] < max(SECOND_SHARE * weighed[lead], SECOND_MIN):
            break
        hits = evidence.hits
        if not _repeats(evidence, lead, i) and not _contradicts(hits[lead], hits[i]):
            return lead, i
    return lead, None


def _repeats(evidence: Evidence, first: int, second: int) -> bool:
    """Whether clause ``second`` restates ``first`` in another document (the guidance
    saying again what the policy says), judged by the words they share."""
    if evidence.hits[first].chunk.source == evidence.hits[second].chunk.source:
        return False
    a, b = evidence.hit_terms[first], evidence.hit_terms[second]
    return bool(a | b) and len(a & b) / len(a | b) >= REPEAT_OVERLAP


def _contradicts(first: Hit, second: Hit) -> bool:
    polarity = (_polarity(first.chunk.text), _polarity(second.chunk.text))
    return None not in polarity and polarity[0] != polarity[1]


def _polarity(text: str) -> str | None:
    match = _YES_NO.match(text)
    return match.group(1).lower() if match else None


def _cited(
    evidence: Evidence, chances: list[float], quoted: list[tuple[Hit, float]]
) -> tuple[Citation, ...]:
    """What the answer cites, most likely to answer first: the clauses it quotes, then
    close runners-up among the first few found."""
    top = evidence.hits[0].score
    ids = {hit.chunk.id for hit, _ in quoted}
    others = [
        (hit, chance)
        for hit, chance in zip(evidence.hits[:MAX_CITATIONS], chances, strict=False)
        if hit.chunk.id not in ids and hit.score >= CITATION_SHARE * top
    ]
    # The lead stays first even when a runner-up it does not quote scores as high.
    ordered = quoted[:1] + sorted(quoted[1:] + others, key=lambda c: -c[1])
    return tuple(citation(hit, chance) for hit, chance in ordered[:MAX_CITATIONS])


def _best_sentences(text: str, weights: dict[str, float]) -> str:
    """The part of a clause that answers the question, as markdown.

    A short clause is given whole. Otherwise the sentences sharing the rarest words with
    the question are kept, in their order, after the clause's own opening "Yes." or "No.";
    when the question is about a list the clause introduces, the answer is that
    introduction and the whole list (steps are never cut), after the best sentence before it.
    """
    units = sentences(text)
    if len(text) <= SHORT_CLAUSE or len(units) <= MAX_ANSWER_SENTENCES:
        return _markdown(units)
    relevance = [sum(weights.get(t, 0.0) for t in term_set(u)) for u in units]
    opening = [0] if _YES_NO.match(units[0]) and len(units[0].split()) <= 3 else []
    intro = next((i for i, u in enumerate(units[:-1]) if u.endswith(":")), None)
    body = [i for i in range(len(units)) if i not in opening and (intro is None or i < intro)]
    best_body = max(body, key=lambda i: relevance[i], default=None)
    if intro is not None:
        list_relevance = max(relevance[intro:])
        if best_body is None or list_relevance * 1.5 >= relevance[best_body]:
            lead = sorted({*opening, *([best_body] if best_body is not None else [])})
            return _markdown([*(units[i] for i in lead), *units[intro:]], list_from=len(lead) + 1)
    ranked = sorted(body, key=lambda i: -(relevance[i] + (0.5 if i == min(body) else 0.0)))
    return _markdown([units[i] for i in sorted({*opening, *ranked[:MAX_ANSWER_SENTENCES]})])


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


def citation(hit: Hit, chance: float) -> Citation:
    """How a clause found for the question is cited: its quote cut at 600 characters, and
    the chooser's probability that it answers the question as its score."""
    quote = hit.chunk.text
    if len(quote) > QUOTE_CHARS:
        quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return Citation(
        source=hit.chunk.source,
        section=hit.chunk.section,
        title=hit.chunk.title,
        quote=quote,
        score=chance,
        document_title=hit.chunk.document_title,
    )
