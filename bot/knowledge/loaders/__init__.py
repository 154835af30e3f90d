"""Read policy documents (Markdown, HTML, plain text, Word, PDF) into one model.

Every format becomes the same :class:`~bot.models.Document`: a title, a preamble (the
status line), and sections of numbered clauses. Each reader only turns its format into a
sequence of blocks; finding the clauses in those blocks is shared (``_structure``).

A file that cannot be read raises :class:`~bot.errors.DocumentLoadError` naming the file and
the reason, never a library's own exception. Files are only ever read.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path

from bot.errors import DocumentLoadError
from bot.knowledge.loaders._plain import decode_text, text_blocks
from bot.knowledge.loaders._structure import Block, FormatError, build_document
from bot.knowledge.paths import inside
from bot.models import Document

__all__ = ["SUPPORTED_SUFFIXES", "discover", "distinct_titles", "load_document"]

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf"})

# A reader returns the blocks and a title from the file's metadata ("" when it has none).
_Reader = Callable[[bytes], tuple[list[Block], str]]

log = logging.getLogger(__name__)


# Each format's libraries are imported when a file of that format is first read: a reload
# that parses one Markdown document imports neither pypdf nor python-docx.


def _read_markdown(data: bytes) -> tuple[list[Block], str]:
    from bot.knowledge.loaders._markup import markdown_blocks

    return list(markdown_blocks(decode_text(data))), ""


def _read_html(data: bytes) -> tuple[list[Block], str]:
    from bot.knowledge.loaders._markup import decode_html, html_blocks

    return list(html_blocks(decode_html(data))), ""


def _read_text(data: bytes) -> tuple[list[Block], str]:
    return list(text_blocks(decode_text(data))), ""


def _read_docx(data: bytes) -> tuple[list[Block], str]:
    from bot.knowledge.loaders._office import read_docx

    return read_docx(data)


def _read_pdf(data: bytes) -> tuple[list[Block], str]:
    from bot.knowledge.loaders._office import read_pdf

    return read_pdf(data)


_READERS: dict[str, _Reader] = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}


def discover(directory: Path, *, ignore: Collection[str] = ()) -> tuple[list[Path], list[Path]]:
    """List the documents in a knowledge directory (not its subdirectories).

    Args:
        directory: the directory to look in.
        ignore: file names that are not documents (``glossary.toml``); left out of both lists.

    Returns:
        ``(supported, skipped)``: files a loader can read, and other files, each sorted by
        name. Hidden files (``.name``) are left out; Office lock files (``~$name.docx``)
        are skipped, since they are not documents whatever their suffix.

    Raises:
        DocumentLoadError: the directory does not exist or is not a directory.
    """
    if not directory.is_dir():
        raise DocumentLoadError(str(directory), "not a directory")
    supported: list[Path] = []
    skipped: list[Path] = []
    root = directory.resolve()
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name in ignore or not path.is_file():
            continue
        if not _printable(path.name):
            log.warning("skipped a file whose name is not valid UTF-8: %r", path.name)
            continue
        if not inside(path, root):
            log.warning("skipped %s: a link to a file outside the knowledge directory", path.name)
            skipped.append(path)
            continue
        readable = path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith("~$")
        (supported if readable else skipped).append(path)
    return supported, skipped


#: More text than any policy document holds: beyond it a file is refused, so that one
#: runaway file (a log, a data dump) cannot hold the reload for hours of embedding.
MAX_TEXT_CHARS = 5_000_000


def _printable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False
    return True


def load_document(path: Path) -> Document:
    """Read one policy document.

    Args:
        path: the file; its suffix (see ``SUPPORTED_SUFFIXES``) decides the reader.

    Returns:
        The document, with at least one numbered clause. ``source`` is the file name.

    Raises:
        DocumentLoadError: the file cannot be read, is damaged, empty, in an unsupported
            format or encoding, or has no numbered clauses. The reason says which.
    """
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentLoadError(path.name, f"unsupported file type (supported: {supported})")
    data = _read_bytes(path)
    try:
        blocks, meta_title = reader(data)
    except FormatError as exc:
        raise DocumentLoadError(path.name, str(exc)) from exc
    if not any(block.text for block in blocks):
        raise DocumentLoadError(path.name, "the document is empty")
    if sum(len(block.text) for block in blocks) > MAX_TEXT_CHARS:
        raise DocumentLoadError(
            path.name,
            f"its text is longer than {MAX_TEXT_CHARS:,} characters (about 2,500 pages): "
            "split it into documents of a sensible size",
        )
    document = build_document(path.name, blocks, fallback_title=meta_title or _name_title(path))
    if not document.sections:
        raise DocumentLoadError(
            path.name, "no numbered clauses found (a clause starts with its number, as in 4.2)"
        )
    return document


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentLoadError(path.name, "file not found") from exc
    except IsADirectoryError as exc:
        raise DocumentLoadError(path.name, "is a directory, not a file") from exc
    except PermissionError as exc:
        raise DocumentLoadError(path.name, "permission denied: the file cannot be read") from exc
    except OSError as exc:
        raise DocumentLoadError(path.name, f"cannot read the file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise DocumentLoadError(path.name, "the document is empty")
    return data


def distinct_titles(documents: Sequence[Document]) -> list[Document]:
    """Give documents that share a title a title of their own, so citations can tell them apart.

    The document whose file is named after the title keeps it (a cabinet report about the
    policy often opens with the policy's title); the others are titled from their file name.
    """
    counts = Counter(d.title.casefold() for d in documents)
    renamed = []
    for document in documents:
        stem = Path(document.source).stem
        if counts[document.title.casefold()] > 1 and _slug(stem) != _slug(document.title):
            document = replace(document, title=_name_title(Path(document.source)))
        renamed.append(document)
    return renamed


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.casefold()))


def _name_title(path: Path) -> str:
    """A title made from the file name, for a document that states none."""
    return path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
