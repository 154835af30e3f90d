"""Word-level helpers shared by keyword search, answer extraction and confidence."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

# Function words that carry no topic: English stop words plus the words questions are
# made of ("can", "should", "what"), which would otherwise match every clause.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during
    each either else even ever every few for from further get gets getting got had has have
    having he her here hers herself him himself his how i if in into is it its itself just
    let like me might mine more most much must my myself no nor not now of off often on once
    one only or other others our ours ourselves out over own per please really same shall
    she should so some still such than that the their theirs them themselves then there these
    they this those through to too under until up upon us very was way we well were what
    whatever when where whether which while who whom whose why will with within without would
    yes yet you your yours yourself yourselves anyone anything someone something thing things
    ok okay hi hello thanks thank tell know need want going go say said
    far long many ahead lot lots make made find out think may might sure exactly
    whats im ive id dont doesnt didnt isnt wasnt arent cant couldnt wont wouldnt shouldnt
    thats theres theyre theyve hes shes youre youve weve its lets
    gonna wanna gotta kinda sorta yeah yep nope yay nay def defo tbh afaik imo btw pls plz
    ppl u ur bit quick quickly actually basically literally just guys guy bloke
    put puts putting see sees seeing seem seems seemed look looks looking
    """.split()
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STEMMER = Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (apostrophe endings dropped: "council's" → "council")."""
    return [w.split("'")[0] for w in _WORD.findall(text.lower())]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order, repeats kept (for BM25)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def term_set(text: str) -> set[str]:
    return set(terms(text))


_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'(A-Z0-9])|\n+")


def sentences(text: str) -> list[str]:
    """Split clause text into sentences and list items, keeping each one's wording."""
    parts = (p.strip() for p in _SENTENCE_END.split(text))
    return [p for p in parts if p]
