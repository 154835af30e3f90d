"""Whether a message follows up an earlier question, and what to search for it.

"What about on my own phone?" after "Can I use Facebook at work?" has lost its subject: it
is searched together with the earlier question. "Who do I tell about a data breach?" after
the same question is a new topic and must be answered alone. The decision, offline, rests
on three kinds of evidence:

- the words of the message: it says it changes the subject (:func:`new_topic`: "unrelated
  -", "another thing,"), or reads as a follow-up (:func:`cues`: it opens with "and", "what
  about", "what if"..., or is two content words or fewer pointing back with "it", "that",
  "them");
- what the search finds (:func:`understand`): the message is searched alone and combined
  with the window's last question (:func:`combine`), and the learned gate
  (:mod:`bot.answers.gate`) says how likely the documents answer each;
- whether the message's own words survive the combination (:func:`lost_subject`).

:func:`depends` weighs them; its thresholds were chosen on the tune half of the
conversation set (``eval/README.md``). With a language model configured, a
:class:`Rewriter` may first turn the follow-up into a standalone question; its rewrite is
checked (:func:`checked_rewrite`) and the offline decision is taken whenever it fails, times
out or does not pass."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.answers.retrieval import Evidence
from bot.answers.text import terms
from bot.conversation.history import Turn, acknowledges

log = logging.getLogger(__name__)

#: A message without cues is combined only when alone the gate gives it less than this...
ALONE_SURE = 0.5
#: ...and combined at least this much more.
GAIN = 0.25
#: A message with cues stays alone when combining costs this much of the gate's probability.
CUE_LOSS = 0.3
#: At most this many content words, and the message is too short to carry its own subject.
SHORT_TERMS = 2
#: A message is not combined when the clauses found combined hold less than this share of
#: its own words (its subject would be lost)...
OWN_SHARE = 0.3
#: ...in the first this many clauses.
SHARE_TOP = 3
#: The longest rewrite accepted from a model, in characters.
REWRITE_CHARS = 400

# "and at lunch?", "what about my own phone", "what if it's private", "same for Twitter?"
_OPENING = re.compile(
    r"^\W*(?:and|but|or|also|plus|so|then|ok(?:ay)?\s+(?:and|so|but)|"
    r"what\s+about|how\s+about|what\s+if|what\s+happens\s+if|same\s+(?:for|with|goes)|"
    r"even\s+if|even\s+when|does\s+that|does\s+this|is\s+that|is\s+this|would\s+that|"
    r"would\s+this|in\s+that\s+case|if\s+so|if\s+not)\b",
    re.IGNORECASE,
)
# Words that point back at something said before.
_POINTING = re.compile(
    r"\b(?:it|its|it's|that|these|those|they|them|their|he|him|his|she|her|there|one|ones|"
    r"same|too|also|either|instead|else|again|such)\b",
    re.IGNORECASE,
)
# "unrelated - ...", "different question: ...", "another thing, ...", "separate question -"
_NEW_TOPIC = re.compile(
    r"^\W*(?:(?:totally|completely|something|a|on\s+a|on\s+an)\s+)?"
    r"(?:unrelated|different|separate|new|another|other)\b"
    r"(?:\s+(?:thing|question|q|topic|subject|note|one|query))?\s*(?:[-:,.—–]|but\b)",
    re.IGNORECASE,
)


def new_topic(text: str) -> bool:
    """Whether the message says it changes the subject ("unrelated - ...", "different
    question: ...", "another thing, ...")."""
    return bool(_NEW_TOPIC.search(text))


def cues(text: str) -> bool:
    """Whether the message reads as a follow-up: an opening such as "and", "what about",
    or a short message that points back ("is that allowed?", "what about them?")."""
    if _OPENING.search(text):
        return True
    return len(set(terms(text))) <= SHORT_TERMS and bool(_POINTING.search(text))


def combine(earlier: Turn, text: str) -> str:
    """The follow-up with the subject of the earlier question: what is searched for it.

    The follow-up leads, and is said twice, so that its own words weigh more than the
    earlier question's: it is what the asker wants to know now (on the tune half, this
    found the right clause for more follow-ups, and misled fewer new topics, than the
    earlier question followed by the follow-up).
    """
    return f"{text} {earlier.searched} {text}"


@dataclass(frozen=True)
class Understood:
    """What a message was taken to mean, and what the search found for it.

    Attributes:
        searched: the text searched.
        evidence: the search's result for it.
        confidence: the gate's probability that the documents answer it.
        turn: the earlier question it was understood with; None when taken alone.
    """

    searched: str
    evidence: Evidence
    confidence: float
    turn: Turn | None = None


#: Searches a text and gives the gate's probability that the documents answer it.
Search = Callable[[str], tuple[Evidence, float]]


class Rewriter(Protocol):
    """Rewrites a follow-up into a standalone question (a language model)."""

    def rewrite(self, text: str, window: Sequence[Turn]) -> str | None:
        """The standalone question, ``text`` itself when it does not depend on the
        window, or None when no rewrite could be had (the offline decision is taken)."""
        ...


def understand(
    text: str,
    window: Sequence[Turn],
    search: Search,
    *,
    rewriter: Rewriter | None = None,
) -> Understood:
    """Decide whether ``text`` depends on the window's last question, and search accordingly.

    Args:
        text: the cleaned message.
        window: the conversation's earlier questions, oldest first (empty: answered alone).
        search: searches a text and gives the gate's probability.
        rewriter: a language model's standalone rewrite, tried first.
    """
    evidence, confidence = search(text)
    alone = Understood(text, evidence, confidence)
    if not window:
        return alone
    earlier = window[-1]
    if rewriter is not None:
        rewritten = _rewritten(rewriter, text, window)
        if rewritten is not None:
            if rewritten.lower() == text.lower():
                return alone
            return Understood(rewritten, *search(rewritten), turn=earlier)
    combined_text = combine(earlier, text)
    combined = Understood(combined_text, *search(combined_text), turn=earlier)
    return combined if depends(text, alone, combined) else alone


def depends(text: str, alone: Understood, combined: Understood) -> bool:
    """Whether a message is taken with the earlier question, from its cues, the gate's
    probabilities alone and combined, and whether its own words are found combined.

    A message that says it changes the subject, or only thanks ("thanks, that's great!"),
    is taken alone. One with follow-up cues is
    combined unless that costs much of the gate's probability. One without is combined
    only when alone it is unlikely to be answered, combined it is clearly likelier, and
    its own subject is not lost in the combination: "car park permit cost?" after a
    question about blogging is likelier answered combined only because the earlier
    question is, and the clauses found then hold none of its own words.

    A message with cues keeps them even when its own words are lost: "and on the ride-on
    mower?" after "can I check TikTok on my breaks?" names nothing the documents know,
    yet asks about TikTok (on the tune half, holding cue messages to the same test lost
    more key facts than it gained clauses). Telling it from "what about the canteen
    menu?" takes a language model (:class:`Rewriter`).
    """
    if new_topic(text) or acknowledges(text):
        return False
    if cues(text):
        return combined.confidence >= alone.confidence - CUE_LOSS
    return (
        not lost_subject(alone, combined)
        and alone.confidence < ALONE_SURE
        and combined.confidence >= alone.confidence + GAIN
    )


def lost_subject(alone: Understood, combined: Understood) -> bool:
    """Whether a message has a subject of its own (:data:`SHORT_TERMS` content words or
    more) that the clauses found combined hardly hold (:data:`OWN_SHARE`)."""
    has_subject = len(alone.evidence.query) >= SHORT_TERMS
    return has_subject and own_share(alone, combined) < OWN_SHARE


def own_share(alone: Understood, combined: Understood) -> float:
    """The idf-weighted share of the message's own words held by the first clauses found
    for it combined with the earlier question."""
    query = alone.evidence.query
    total = sum(q.idf for q in query)
    found = frozenset().union(*combined.evidence.hit_terms[:SHARE_TOP])
    return sum(q.idf for q in query if q.alternatives & found) / total if total else 0.0


def checked_rewrite(text: str, window: Sequence[Turn], rewritten: object) -> str | None:
    """A model's rewrite when it can stand for the message, else None: text, not empty,
    no longer than :data:`REWRITE_CHARS` nor than the message and the earlier questions
    together, and with some word of its own to search."""
    if not isinstance(rewritten, str):
        return None
    candidate = " ".join(rewritten.split()).strip("\"' ")
    limit = min(REWRITE_CHARS, len(text) + sum(len(t.searched) for t in window) + 40)
    if not candidate or len(candidate) > limit or not terms(candidate):
        return None
    return candidate


def _rewritten(rewriter: Rewriter, text: str, window: Sequence[Turn]) -> str | None:
    try:
        rewritten = rewriter.rewrite(text, window)
    except Exception:  # a rewriter must never cost staff their answer
        log.exception("the follow-up rewriter failed: deciding offline")
        return None
    checked = checked_rewrite(text, window, rewritten) if rewritten is not None else None
    if rewritten is not None and checked is None:
        log.warning("the model's rewrite of a follow-up was not usable: deciding offline")
    return checked
