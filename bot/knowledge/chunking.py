"""Cut documents into chunks, the unit the index stores and retrieval returns.

One chunk per clause, so that a citation points at a clause number. A clause too long to
embed well is cut into overlapping parts that keep its number, title and heading path;
cuts fall between sentences or lines where possible and never inside a word.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from bot.models import Chunk, Clause, Document

# A word after which a cut reads naturally: it ends a sentence or a clause of a list.
_SENTENCE_END = re.compile(r"[.!?;:][\"')\u201d\u2019]*$")


def chunk_document(
    document: Document, *, max_words: int = 120, overlap_words: int = 30
) -> list[Chunk]:
    """Make the chunks of one document, in document order.

    Args:
        document: the loaded document.
        max_words: the most words in one chunk; a longer clause is cut into parts.
        overlap_words: about how many words each part repeats from the end of the one
            before, so that a sentence cut in two is whole in at least one part.

    Returns:
        One chunk per clause, or several (``part`` 0, 1, ...) for a long clause.

    Raises:
        ValueError: ``max_words`` is not positive, or ``overlap_words`` is negative or
            not below ``max_words``.
    """
    if max_words < 1 or not 0 <= overlap_words < max_words:
        raise ValueError("need max_words >= 1 and 0 <= overlap_words < max_words")
    chunks: list[Chunk] = []
    for clause in document.clauses:
        for part, text in enumerate(_split(clause.text, max_words, overlap_words)):
            chunks.append(_chunk(document, clause, len(chunks), part, text))
    return chunks


def chunk_documents(
    documents: Iterable[Document], *, max_words: int = 120, overlap_words: int = 30
) -> list[Chunk]:
    """Make the chunks of several documents, one document after another.

    Args:
        documents: the loaded documents.
        max_words: as for :func:`chunk_document`.
        overlap_words: as for :func:`chunk_document`.

    Returns:
        All the chunks, each document's in document order.
    """
    return [
        chunk
        for document in documents
        for chunk in chunk_document(document, max_words=max_words, overlap_words=overlap_words)
    ]


def _chunk(document: Document, clause: Clause, ordinal: int, part: int, text: str) -> Chunk:
    return Chunk(
        id=chunk_id(document.source, ordinal, clause.number, part, text),
        source=document.source,
        document_title=document.title,
        section=clause.number,
        title=clause.title,
        text=text,
        part=part,
        heading_path=clause.heading_path,
    )


def chunk_id(source: str, ordinal: int, number: str, part: int, text: str) -> str:
    """A stable id from the chunk's content and place.

    The ordinal (the chunk's position in its document) keeps apart clauses that share a
    number, as the main body and the appendix of a committee report do.

    Args:
        source: the document's file name.
        ordinal: the chunk's position among the document's chunks, from 0.
        number: the clause number.
        part: the part of the clause, from 0.
        text: the chunk's text.

    Returns:
        The first 20 hex digits of a SHA-256 over all of these.
    """
    key = "\x1f".join((source, str(ordinal), number, str(part), text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def _split(text: str, max_words: int, overlap_words: int) -> list[str]:
    """Cut text into parts of at most ``max_words`` words, overlapping by about
    ``overlap_words``; a clause that fits comes back unchanged."""
    words, seps = _words(text)
    if len(words) <= max_words:
        return [text]
    # Indexes of words that start a sentence or a line: the preferred places to cut.
    breaks = [
        i for i in range(1, len(words)) if seps[i] == "\n" or _SENTENCE_END.search(words[i - 1])
    ]
    parts: list[str] = []
    start = 0
    while True:
        end = min(start + max_words, len(words))
        if end < len(words):
            # Cut at the last break in the second half of the window, if there is one.
            end = max((b for b in breaks if start + max_words // 2 < b <= end), default=end)
        parts.append(_join(words[start:end], seps[start:end]))
        if end == len(words):
            return parts
        # Begin the next part at the first break inside the overlap, else between two
        # words exactly overlap_words back; either way, always move forward.
        back = end - overlap_words
        restart = min((b for b in breaks if back <= b < end), default=back)
        start = max(restart, start + 1)


def _words(text: str) -> tuple[list[str], list[str]]:
    """The words of the text, and the separator before each ("" first, "\\n" or " ")."""
    words: list[str] = []
    seps: list[str] = []
    for line_number, line in enumerate(text.split("\n")):
        for position, word in enumerate(line.split()):
            words.append(word)
            seps.append("\n" if position == 0 and line_number else " ")
    if seps:
        seps[0] = ""
    return words, seps


def _join(words: list[str], seps: list[str]) -> str:
    return "".join(sep + word for sep, word in zip(["", *seps[1:]], words, strict=True))
