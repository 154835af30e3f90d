"""What a reload remembers of each document: its content hash and its parsed clauses.

A reload of a library of hundreds of documents where one has changed reads and parses that
one only. ``<index>/parsed/`` keeps:

    files.json          each file's size, mtime, ctime and inode with its content hash,
                        so that an untouched file is not even read
    <key>.json          one parsed document, keyed by its name, content hash and the
                        build format (a new loader re-parses everything)

Every file is written to a temporary name and renamed into place, so a reload that stops
half-way leaves whole entries only; an entry that cannot be read (damaged, from another
version) is ignored, and the document is parsed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.models import Clause, Document, Section

log = logging.getLogger(__name__)

STAT_FILE = "files.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ParseCache:
    """Parsed documents and content hashes, kept between reloads.

    Args:
        directory: where the cache lives (``<index>/parsed``); made on first write.
        version: what must match for an entry to be reused (the build format).
    """

    def __init__(self, directory: Path, *, version: str) -> None:
        self.directory = directory
        self.version = version
        self._stats = self._read_stats()
        self._used: set[str] = set()
        self._changed = False
        #: How many documents the last calls parsed, and how many they took from the cache.
        self.parsed = 0
        self.reused = 0

    def content_hash(self, path: Path, read: Callable[[Path], bytes]) -> str:
        """The SHA-256 of the file's bytes; read only when its stat has changed."""
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        known = self._stats.get(path.name)
        if known is not None and known[:4] == signature:
            return str(known[4])
        digest = sha256(read(path))
        self._stats[path.name] = [*signature, digest]
        self._changed = True
        return digest

    def document(self, path: Path, digest: str, parse: Callable[[Path], Document]) -> Document:
        """The parsed document of ``path`` with content hash ``digest``: from the cache when
        it holds it, else parsed (and kept)."""
        key = sha256(f"{self.version}\x1f{path.name}\x1f{digest}".encode())[:32]
        self._used.add(key)
        entry = self.directory / f"{key}.json"
        if entry.is_file():
            try:
                document = document_from_json(json.loads(entry.read_text(encoding="utf-8")))
                if document.source == path.name:
                    self.reused += 1
                    return document
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                log.warning("ignored a damaged parse cache entry for %s: %s", path.name, exc)
        document = parse(path)
        self.parsed += 1
        _write_atomically(entry, json.dumps(asdict(document), ensure_ascii=False))
        return document

    def save(self, names: Iterable[str], *, prune: bool) -> None:
        """Keep the hashes of the files ``names``; with ``prune``, also drop every parsed
        document this reload did not use (removed or changed since)."""
        keep = set(names)
        stats = {name: value for name, value in self._stats.items() if name in keep}
        if self._changed or len(stats) != len(self._stats):
            _write_atomically(self.directory / STAT_FILE, json.dumps(stats))
        if not prune:
            return
        for entry in self.directory.glob("*.json"):
            if entry.name != STAT_FILE and entry.stem not in self._used:
                entry.unlink(missing_ok=True)

    def _read_stats(self) -> dict[str, list[Any]]:
        try:
            raw = json.loads((self.directory / STAT_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignored the damaged file hash cache: %s", exc)
            return {}
        if not isinstance(raw, dict):
            return {}
        return {
            str(name): value
            for name, value in raw.items()
            if isinstance(value, list) and len(value) == 5 and isinstance(value[4], str)
        }


def document_from_json(data: dict[str, Any]) -> Document:
    """A document as :func:`dataclasses.asdict` wrote it."""
    sections = tuple(
        Section(
            number=s["number"],
            title=s["title"],
            clauses=tuple(
                Clause(**{**c, "heading_path": tuple(c["heading_path"])}) for c in s["clauses"]
            ),
        )
        for s in data["sections"]
    )
    return Document(data["source"], data["title"], sections, data["preamble"])


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
