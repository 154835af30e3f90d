"""The format-independent half of loading: blocks in, a :class:`Document` out.

Each format reader turns its file into a flat sequence of :class:`Block` (the title,
headings with a level, paragraphs, list items). :class:`DocumentBuilder` then finds the
numbered clauses in that sequence the same way for every format, so a rule about clause
numbers, sections or lettered items lives here once and not in five readers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from bot.models import Clause, Document, Section

BlockKind = Literal["title", "heading", "paragraph", "item", "loose"]

# "4.2 You may ..." / "4.2. You may ..." / "4.2.1 ...": at least two levels, so a section
# heading ("4. Title") or a sentence starting with a year is never taken for a clause.
CLAUSE_START = re.compile(r"^(\d{1,4}(?:\.\d{1,4})+)\.?\s+(?=\S)")
# A numbered heading as written ("4. Using social media", "4.2 Personal use").
NUMBERED_HEADING = re.compile(r"^(\d{1,4}(?:\.\d{1,4})*)\.?\s+(\S.*)$")
# "(a) ...", "a) ...", "(iv) ...": items that belong to the clause above them.
LETTERED = re.compile(r"^(?:\([a-z]{1,2}\)|\([ivx]{1,5}\)|[a-z]\))\s+", re.IGNORECASE)
# Bullets as typed in plain text.
BULLET = re.compile(r"^[-*\u2022\u2013\u25aa]\s+")
_SPACES = re.compile(r"\s+")


class FormatError(Exception):
    """A reader cannot make sense of a file; the message is the reason shown to admins."""


@dataclass(frozen=True)
class Block:
    """One unit of a document as a reader sees it.

    Attributes:
        kind: ``title``; ``heading`` (with ``level``); ``paragraph`` or ``item`` (both
            continue the open clause unless they start a new one); ``loose``, a paragraph
            that ends the open clause without joining it (plain text only).
        text: the text, whitespace already normalised.
        level: heading level, 1 for the top.
    """

    kind: BlockKind
    text: str
    level: int = 0


def normalize(text: str) -> str:
    """Collapse runs of whitespace (line wraps, tabs, no-break spaces) to one space."""
    return _SPACES.sub(" ", text).strip()


@dataclass
class _OpenClause:
    number: str
    lines: list[str]
    section: tuple[str, str]
    path: tuple[str, ...]
    heading: str = ""
    heading_as_written: str = ""
    level: int = 0  # the heading level of a question-style clause, 0 for a paragraph clause


class DocumentBuilder:
    """Collects blocks in document order and assembles the clauses they contain."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.title = ""
        self.preamble: list[str] = []
        self.clauses: list[Clause] = []
        self._headings: list[tuple[int, str]] = []  # (level, text as written), outermost first
        self._open: _OpenClause | None = None
        self._started = False  # a heading or clause has been seen: no more preamble

    def add(self, block: Block) -> None:
        """Take the next block of the document."""
        if not block.text:
            return
        if block.kind == "title" and not self.title:
            self.title = block.text
        elif block.kind in ("title", "heading"):
            self._heading(block.text, max(block.level, 1))
        elif block.kind == "loose":
            self._close()
            self._text(block.text, joins_clause=False)
        elif (match := CLAUSE_START.match(block.text)) is not None:
            self._start(match.group(1), block.text[match.end() :])
        else:
            self._text(block.text, joins_clause=True)

    def build(self, fallback_title: str) -> Document:
        """Close the last clause and return the document, sections in order."""
        self._close()
        title = self.title or fallback_title
        # The title is often known only at the end (a Markdown status line comes before
        # the "#" heading), so it goes at the head of every path here.
        clauses = [replace(c, heading_path=(title, *c.heading_path)) for c in self.clauses]
        return Document(
            source=self.source,
            title=title,
            sections=_group(clauses),
            preamble=" ".join(self.preamble),
        )

    def _heading(self, text: str, level: int) -> None:
        self._close()
        self._started = True
        self._headings = [(lvl, txt) for lvl, txt in self._headings if lvl < level]
        match = CLAUSE_START.match(text)
        if match is None:
            self._headings.append((level, text))
            return
        # A numbered question ("5.1 A resident has messaged me ...?"): the heading is the
        # clause and the paragraphs under it are its text.
        self._open = _OpenClause(
            number=match.group(1),
            lines=[],
            section=self._section(),
            path=self._path() + (text,),
            heading=text[match.end() :],
            heading_as_written=text,
            level=level,
        )

    def _start(self, number: str, text: str) -> None:
        pending = self._open
        if pending is not None and pending.level and not pending.lines:
            if number.startswith(pending.number + "."):
                # "### 4.2 Personal use" followed by "4.2.1 ...": the heading was a
                # section of three-level clauses, not a question with an answer.
                self._headings.append((pending.level, pending.heading_as_written))
                self._open = None
        self._close()
        self._started = True
        self._open = _OpenClause(number, [text], self._section(), self._path())

    def _text(self, text: str, *, joins_clause: bool) -> None:
        if self._open is not None and joins_clause:
            self._open.lines.append(text)
        elif not self._started:
            self.preamble.append(text)
        # Otherwise the text is outside every clause (a section introduction, a table of
        # signatories): it is not policy wording anyone can cite, so it is left out.

    def _close(self) -> None:
        clause, self._open = self._open, None
        if clause is None:
            return
        number, title = clause.section
        self.clauses.append(
            Clause(
                number=clause.number,
                # A question heading with no answer under it still says something.
                text="\n".join(clause.lines) or clause.heading,
                section_number=number,
                section_title=title,
                heading=clause.heading,
                heading_path=clause.path,
            )
        )

    def _section(self) -> tuple[str, str]:
        """The deepest numbered heading above the clause, else the deepest heading."""
        for _, text in reversed(self._headings):
            match = NUMBERED_HEADING.match(text)
            if match is not None:
                return match.group(1), match.group(2)
        if self._headings:
            return "", self._headings[-1][1]
        return "", ""

    def _path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._headings)


def _group(clauses: Iterable[Clause]) -> tuple[Section, ...]:
    """Consecutive clauses under the same heading form one section."""
    sections: list[Section] = []
    for clause in clauses:
        last = sections[-1] if sections else None
        key = (clause.section_number, clause.section_title)
        if last is not None and (last.number, last.title) == key:
            sections[-1] = Section(last.number, last.title, (*last.clauses, clause))
        else:
            sections.append(Section(*key, clauses=(clause,)))
    return tuple(sections)


def build_document(source: str, blocks: Iterable[Block], *, fallback_title: str) -> Document:
    """Assemble a document from a reader's blocks.

    Args:
        source: the file name, kept as ``Document.source``.
        blocks: the blocks in document order.
        fallback_title: the title to use when no block is a title (file metadata, say).

    Returns:
        The document; it may have no clauses, which the caller reports.
    """
    builder = DocumentBuilder(source)
    for block in blocks:
        builder.add(block)
    return builder.build(fallback_title)
