"""Readers for Word (python-docx) and PDF (pypdf) files."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from bot.knowledge.loaders._structure import (
    BULLET,
    CLAUSE_START,
    LETTERED,
    Block,
    BlockKind,
    FormatError,
    normalize,
)

# pypdf logs each defect it works around ("EOF marker not found"); a PDF it cannot read
# raises, and the reload names the file and the reason once, so its warnings are noise.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
# Footers and bare page numbers: "Page 3", "Page 3 of 5", "3", "- 3 -".
_PAGE_FOOTER = re.compile(r"^(?:page\s+\d+(?:\s*(?:of|/)\s*\d+)?|\d{1,4}|-\s*\d{1,4}\s*-)$", re.I)
# A PDF section heading on a line of its own: "4. Sending information securely".
_PDF_SECTION = re.compile(r"^(\d{1,3})\.\s+[A-Z]")
_SENTENCE_END = (".", "!", "?", ":", ";", ",")


def read_docx(data: bytes) -> tuple[list[Block], str]:
    """Read a Word document by paragraph style.

    ``Title``/``Heading 1`` is the title, ``Heading N`` a heading of level N, a style whose
    name contains "List" a list item, anything else a paragraph; table rows are paragraphs.

    Args:
        data: the .docx file's bytes.

    Returns:
        The blocks, and the title from the document properties ("" if none).

    Raises:
        FormatError: the file is not a readable Word document.
    """
    try:
        document = docx.Document(io.BytesIO(data))
        styles: dict[str | None, str] = {}
        blocks = [
            block for item in document.iter_inner_content() for block in _docx_item(item, styles)
        ]
        return blocks, normalize(document.core_properties.title or "")
    except Exception as exc:
        # A damaged package fails deep in zipfile, lxml or python-docx with exception types
        # that are not documented; whichever it is, the admin needs the same message.
        raise FormatError(f"not a readable Word document, the file may be damaged ({exc})") from exc


def _docx_item(item: Paragraph | Table, styles: dict[str | None, str]) -> Iterator[Block]:
    if isinstance(item, Table):
        for row in item.rows:
            # A merged cell appears once per grid column it spans; keep it once.
            cells = list(dict.fromkeys(normalize(cell.text) for cell in row.cells))
            yield Block("paragraph", " | ".join(cell for cell in cells if cell))
        return
    style = _style_name(item, styles)
    text = normalize(item.text)
    heading = _HEADING_STYLE.match(style)
    if style == "Title" or (heading is not None and heading.group(1) == "1"):
        yield Block("title", text, 1)
    elif heading is not None:
        yield Block("heading", text, int(heading.group(1)))
    elif "list" in style.lower():
        yield Block("item", text)
    else:
        yield Block("paragraph", text)


def _style_name(paragraph: Paragraph, names: dict[str | None, str]) -> str:
    """The name of a paragraph's style, looked up once per style of the document: python-docx
    finds a paragraph's default style by reading every style the document defines, which
    was nine tenths of reading a Word document (60 ms each)."""
    style_id = paragraph._p.style  # the style's id, None for the document's default
    if style_id not in names:
        style = paragraph.style
        names[style_id] = (style.name if style is not None else "") or ""
    return names[style_id]


def read_pdf(data: bytes) -> tuple[list[Block], str]:
    """Read a PDF's text layer, page by page, as one flow of lines.

    Page footers are dropped, wrapped lines re-joined, and a clause carries on across a
    page break until the next clause, lettered item or section heading starts.

    Args:
        data: the .pdf file's bytes.

    Returns:
        The blocks, and the title from the PDF metadata ("" if none).

    Raises:
        FormatError: the file is damaged, password-protected or has no text layer.
    """
    pages, meta_title = _pdf_text(data)
    lines = [
        line
        for page in pages
        for line in (normalize(raw) for raw in page.splitlines())
        if line and not _PAGE_FOOTER.match(line)
    ]
    if not lines:
        raise FormatError("the PDF has no text layer (a scanned PDF needs text recognition first)")
    return _PdfFlow(meta_title).read(lines), meta_title


def _pdf_text(data: bytes) -> tuple[list[str], str]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError("the PDF is password-protected")
        title = reader.metadata.title if reader.metadata is not None else None
        return [page.extract_text() or "" for page in reader.pages], normalize(str(title or ""))
    except FormatError:
        raise
    except Exception as exc:
        # pypdf reports a damaged file with PdfReadError but also with ValueError, KeyError
        # and others from deep in the parser; the admin needs the same message for each.
        raise FormatError(f"not a readable PDF, the file may be damaged ({exc})") from exc


class _PdfFlow:
    """Turns PDF lines into blocks; a line that starts nothing continues the one before."""

    def __init__(self, meta_title: str) -> None:
        self._meta_title = meta_title
        self._front: list[str] = []  # lines before the first heading or clause
        self._blocks: list[Block] = []
        self._current: list[str] = []
        self._kind: BlockKind | None = None  # of the block being assembled
        self._section = 0
        self._section_has_clause = False

    def read(self, lines: list[str]) -> list[Block]:
        for line in lines:
            self._line(line)
        self._flush()
        return [*self._front_blocks(), *self._blocks]

    def _line(self, line: str) -> None:
        section = _PDF_SECTION.match(line)
        if section is not None and self._is_section(int(section.group(1)), line):
            self._flush()
            self._section, self._section_has_clause = int(section.group(1)), False
            self._blocks.append(Block("heading", line, 2))
        elif self._is_clause(line):
            self._section_has_clause = True
            self._begin("paragraph", line)
        elif LETTERED.match(line) or BULLET.match(line):
            self._begin("item", BULLET.sub("", line))
        elif self._kind is not None:
            self._current.append(line)
        elif not self._blocks:
            self._front.append(line)
        # else: text between a heading and its first clause, which is cited by no one.

    def _is_section(self, number: int, line: str) -> bool:
        # A heading is short and not a sentence, and once a section has clauses the next
        # section number is higher: this keeps a wrapped line that happens to start "2. "
        # inside its clause. Before any clause, numbers may start again: the headings
        # seen so far were a table of contents.
        if len(line) > 100 or line.endswith(_SENTENCE_END):
            return False
        return number > self._section or not self._section_has_clause

    def _is_clause(self, line: str) -> bool:
        match = CLAUSE_START.match(line)
        if match is None:
            return False
        # Under "4. ..." a wrapped line starting "2.5 hours" is not clause 2.5.
        return not self._section or match.group(1).split(".")[0] == str(self._section)

    def _begin(self, kind: BlockKind, line: str) -> None:
        self._flush()
        self._kind, self._current = kind, [line]

    def _flush(self) -> None:
        if self._kind is not None:
            self._blocks.append(Block(self._kind, " ".join(self._current)))
        self._kind, self._current = None, []

    def _front_blocks(self) -> list[Block]:
        """The title line and the status lines (the preamble) before the first section."""
        front = self._front
        index = _title_index(front, self._meta_title)
        title = front[index] if index is not None else self._meta_title
        rest = [line for i, line in enumerate(front) if i != index]
        return [Block("title", title, 1), Block("paragraph", " ".join(rest))]


def _title_index(front: list[str], meta_title: str) -> int | None:
    """Which front line is the title: the one the metadata names, else (no metadata) the
    first line that is not part of a sentence (status lines end with a full stop)."""
    if meta_title:
        matches = (i for i, line in enumerate(front) if line.casefold() == meta_title.casefold())
        return next(matches, None)
    for index, line in enumerate(front):
        after_sentence = index == 0 or front[index - 1].endswith(_SENTENCE_END)
        if after_sentence and not line.endswith(_SENTENCE_END):
            return index
    return None
