"""Reader for plain text, such as a committee report saved as .txt.

Plain text has no markup, so the layout carries the structure: blank lines separate
paragraphs, a line starting with a bullet, a clause number or a letter in brackets starts an
item, any other line continues the one above (a hard wrap), and a short line on its own with
no closing punctuation is a heading (upper case: level 2; otherwise level 3, under it).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from bot.knowledge.loaders._structure import (
    BULLET,
    CLAUSE_START,
    LETTERED,
    Block,
    FormatError,
    normalize,
)

_NUMBERED_SECTION = re.compile(r"^\d{1,3}\.\s+[A-Z]")
_HEADING_MAX_WORDS = 10
_CLOSING = (".", ",", ";", ":", "!", "?")


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without a byte-order mark) or UTF-16 with one.

    Raises:
        FormatError: the bytes are binary or in another encoding.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data:
        raise FormatError("the file is binary, not text")
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"the text cannot be decoded as {encoding.upper()} (byte {exc.start}); "
            "save the file as UTF-8"
        ) from exc


def text_blocks(text: str) -> Iterator[Block]:
    """The blocks of a plain-text document; its first non-empty line is the title.

    Args:
        text: the decoded file.

    Yields:
        Blocks in document order. A paragraph that starts with no number, letter or bullet
        is ``loose``: it ends the clause above it instead of joining it.
    """
    paragraphs = _paragraphs(text)
    if not paragraphs:
        return
    first, *rest_of_first = paragraphs[0]
    yield Block("title", normalize(first), 1)
    for lines in ([rest_of_first] if rest_of_first else []) + paragraphs[1:]:
        yield from _paragraph_blocks(lines)


def _paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [lines for lines in paragraphs if lines]


def _paragraph_blocks(lines: list[str]) -> Iterator[Block]:
    items = _logical_lines(lines)
    text, marked = items[0]
    if not marked and len(items) == 1 and len(lines) == 1 and _is_heading(text):
        yield Block("heading", text, _heading_level(text))
        return
    for text, marked in items:
        yield Block("item" if marked else "loose", text)


def _logical_lines(lines: list[str]) -> list[tuple[str, bool]]:
    """Re-join hard-wrapped lines; each result says whether it starts with a marker.

    The lines of an item are gathered and joined once, so a long paragraph costs time in
    proportion to its length.
    """
    items: list[tuple[list[str], bool]] = []
    for line in lines:
        bare = BULLET.sub("", line)
        marked = bare != line or bool(CLAUSE_START.match(bare) or LETTERED.match(bare))
        if marked or not items:
            items.append(([bare], marked))
        else:
            items[-1][0].append(line)
    return [(normalize(" ".join(parts)), marked) for parts, marked in items]


def _heading_level(text: str) -> int:
    """Level 2 for "RECOMMENDATION" or "4. Title", level 3 for "Legal" or "IT" below it.

    A short all-capitals word ("IT", "HR") is an acronym used as a title-case heading,
    not a shouted one, so it needs four letters to count as upper case.
    """
    letters = [char for char in text if char.isalpha()]
    shouted = len(letters) >= 4 and all(char.isupper() for char in letters)
    return 2 if shouted or _NUMBERED_SECTION.match(text) else 3


def _is_heading(text: str) -> bool:
    if len(text.split()) > _HEADING_MAX_WORDS or text.endswith(_CLOSING):
        return False
    return (text[0].isalpha() and text[0].isupper()) or bool(_NUMBERED_SECTION.match(text))
