"""A synthetic policy library for ``make bench-scale``: the shipped documents, copied.

``write_library(target, scale)`` writes the shipped documents and their settings
(glossary, routing examples, hints) into ``target``, then ``scale - 1`` renamed copies of
each document in its own format (Markdown, text, HTML, Word, PDF). Each copy is lightly
varied, one word added to each longer line, so that no two copies share a content hash and
few share a clause's text: the library reads, chunks and embeds like one of a council's own.
The shipped files are only read.

    python scripts/synthetic_library.py TARGET SCALE
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SETTINGS = ("glossary.toml", "routing.toml", "documents.toml", "hints")

#: Words one of which each copy adds to each longer line.
FILLERS = (
    "also",
    "normally",
    "generally",
    "always",
    "clearly",
    "properly",
    "usually",
    "still",
    "fully",
    "only",
    "duly",
    "strictly",
    "equally",
    "promptly",
    "simply",
    "reasonably",
)
#: Lines shorter than this (titles, headings, numbers) are copied unchanged.
MIN_WORDS = 8


def vary_line(line: str, copy: int, index: int) -> str:
    """``line`` with one filler word added, chosen by the copy and the line's index so that
    copies of a line differ (after the third word: a clause number stays first)."""
    words = line.split(" ")
    if len([w for w in words if w]) < MIN_WORDS:
        return line
    filler = FILLERS[(copy + index) % len(FILLERS)]
    place = 3 + (copy // len(FILLERS) + index) % (len(words) - 3)
    return " ".join([*words[:place], filler, *words[place:]])


def vary_plain(data: bytes, copy: int) -> bytes:
    """A Markdown or text document, varied line by line."""
    lines = data.decode("utf-8").split("\n")
    return "\n".join(vary_line(line, copy, i) for i, line in enumerate(lines)).encode("utf-8")


def vary_html(data: bytes, copy: int) -> bytes:
    """An HTML document, varied in its text between tags (never inside a tag)."""
    counter = iter(range(1 << 30))

    def text(match: re.Match[str]) -> str:
        return ">" + vary_line(match.group(1), copy, next(counter)) + "<"

    return re.sub(r">([^<]+)<", text, data.decode("utf-8")).encode("utf-8")


def vary_docx(data: bytes, copy: int) -> bytes:
    """A Word document, varied in the longest run of each paragraph (tables included)."""
    import docx

    document = docx.Document(io.BytesIO(data))
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        paragraphs.extend(p for row in table.rows for cell in row.cells for p in cell.paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if paragraph.runs:
            run = max(paragraph.runs, key=lambda r: len(r.text))
            run.text = vary_line(run.text, copy, index)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def vary_pdf(data: bytes, copy: int) -> bytes:
    """A PDF rewritten from the original's text lines, each varied, with its title."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    title = str(reader.metadata.title or "") if reader.metadata is not None else ""
    pages = [(page.extract_text() or "").split("\n") for page in reader.pages]
    counter = iter(range(1 << 30))
    varied = [[vary_line(line, copy, next(counter)) for line in page] for page in pages]
    return pdf_bytes(varied, title)


def pdf_bytes(pages: list[list[str]], title: str) -> bytes:
    """A minimal PDF of text lines in Helvetica (WinAnsi encoding), a list per page."""

    def literal(text: str) -> bytes:
        raw = text.encode("cp1252", errors="replace")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    objects: list[bytes] = [b"", b"", b""]  # catalog, page tree, font: filled in below
    kids = []
    for lines in pages:
        stream = b"BT /F1 9 Tf 11 TL 36 806 Td " + b"".join(literal(t) + b" '\n" for t in lines)
        stream += b"ET"
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (len(objects))
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    objects[2] = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(b"<< /Title %s >>" % literal(title))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


VARIERS: dict[str, Callable[[bytes, int], bytes]] = {
    ".md": vary_plain,
    ".txt": vary_plain,
    ".html": vary_html,
    ".docx": vary_docx,
    ".pdf": vary_pdf,
}


def shipped_documents() -> list[Path]:
    """The shipped documents, by name."""
    return sorted(p for p in KNOWLEDGE.iterdir() if p.suffix in VARIERS)


def copy_name(path: Path, copy: int) -> str:
    """The file name of a copy: another library's document of the same kind."""
    return f"{path.stem}-library-{copy:03d}{path.suffix}"


def write_library(target: Path, scale: int, *, documents: int | None = None) -> list[Path]:
    """Write a library ``scale`` times the shipped one into ``target`` (made if need be).

    Args:
        target: the directory to write; files already there are overwritten.
        scale: 1 for the shipped documents alone; N adds N - 1 varied copies of each.
        documents: start from only the first this many shipped documents (a quick run).

    Returns:
        The documents written, by name.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    target.mkdir(parents=True, exist_ok=True)
    for name in SETTINGS:
        source = KNOWLEDGE / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copyfile(source, target / name)
    written = []
    for path in shipped_documents()[:documents]:
        data = path.read_bytes()
        shutil.copyfile(path, target / path.name)
        written.append(target / path.name)
        for copy in range(1, scale):
            out = target / copy_name(path, copy)
            out.write_bytes(VARIERS[path.suffix](data, copy))
            written.append(out)
    return sorted(written)


if __name__ == "__main__":
    documents = write_library(Path(sys.argv[1]), int(sys.argv[2]))
    print(f"{len(documents)} documents in {sys.argv[1]}")
