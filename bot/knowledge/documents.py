"""Each document's version, owner and review date: "is this the current rule?".

Read from the document where it states them (the status line most council documents open
with: "Version 1.0 (November 2026). Review date: November 2027."), and from the admin-editable
``knowledge/documents.toml``, which wins where both say something::

    ["electronic-communication-and-social-media-policy"]   # the file name without extension
    owner = "Head of HR"
    version = "1.1"
    review_date = "2027-03-31"      # or "March 2027": due by the end of that month

A document past its review date is flagged at reload, in ``/healthz`` and by
``policybot doctor``, and answers from it say that it is due for review.
"""

from __future__ import annotations

import calendar
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from bot.errors import DocumentLoadError
from bot.models import Document

DOCUMENTS_FILE = "documents.toml"
INFO_FILE = "documents.json"

_VERSION = re.compile(r"\bversion\s*:?\s*v?(\d+(?:\.\d+)*)", re.IGNORECASE)
_REVIEW = re.compile(r"\breview(?:\s+date)?\s*(?:due)?\s*:?\s*([^.;]+)", re.IGNORECASE)
_OWNER = re.compile(r"\b(?:document\s+)?owner\s*:\s*([^.;\n]+)", re.IGNORECASE)
_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}


@dataclass(frozen=True)
class DocumentInfo:
    """What a citation and an admin need to know about a document's currency."""

    source: str
    title: str
    version: str = ""
    owner: str = ""
    #: The day by which the document is to be reviewed (the month's last day when only a
    #: month is given); None when nobody says.
    review_by: date | None = None

    def overdue(self, today: date) -> bool:
        return self.review_by is not None and today > self.review_by

    @property
    def review_text(self) -> str:
        return f"{self.review_by:%d %B %Y}" if self.review_by else ""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["review_by"] = self.review_by.isoformat() if self.review_by else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> DocumentInfo:
        review = data.get("review_by")
        return cls(
            source=str(data["source"]),
            title=str(data["title"]),
            version=str(data.get("version") or ""),
            owner=str(data.get("owner") or ""),
            review_by=date.fromisoformat(str(review)) if review else None,
        )


def parse_date(text: str) -> date | None:
    """ "2027-03-31", "31 March 2027" or "March 2027" (the last day of the month)."""
    text = text.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    words = re.findall(r"[A-Za-z]+|\d+", text)
    months = [(i, _MONTHS[w.lower()]) for i, w in enumerate(words) if w.lower() in _MONTHS]
    years = [int(w) for w in words if w.isdigit() and len(w) == 4]
    if not months or not years:
        return None
    position, month = months[0]
    day_words = [w for w in words[:position] if w.isdigit() and len(w) <= 2]
    last = calendar.monthrange(years[0], month)[1]
    day = int(day_words[-1]) if day_words and 1 <= int(day_words[-1]) <= last else last
    return date(years[0], month, day)


def stated(document: Document) -> DocumentInfo:
    """The version, owner and review date a document states in its opening lines."""
    text = document.preamble
    version = _VERSION.search(text)
    review = _REVIEW.search(text)
    owner = _OWNER.search(text)
    return DocumentInfo(
        source=document.source,
        title=document.title,
        version=version.group(1) if version else "",
        owner=owner.group(1).strip() if owner else "",
        review_by=parse_date(review.group(1)) if review else None,
    )


def document_infos(
    documents: Iterable[Document], knowledge_dir: Path
) -> tuple[dict[str, DocumentInfo], tuple[str, ...]]:
    """Every document's info, ``documents.toml`` over what the document states; and a line
    for each entry of that file that names no document, or a date it cannot read.

    Raises:
        DocumentLoadError: ``documents.toml`` is not valid TOML of the shape above.
    """
    infos = {d.source: stated(d) for d in documents}
    by_stem = {Path(source).stem: source for source in infos}
    problems = []
    for stem, entry in _read_settings(knowledge_dir / DOCUMENTS_FILE).items():
        source = by_stem.get(stem)
        if source is None:
            problems.append(f"{DOCUMENTS_FILE} [{stem}]: no document named {stem}")
            continue
        info = infos[source]
        review_by = info.review_by
        if "review_date" in entry:
            review_by = parse_date(str(entry["review_date"]))
            if review_by is None:
                problems.append(f"{DOCUMENTS_FILE} [{stem}]: review_date is not a date")
        infos[source] = DocumentInfo(
            source=source,
            title=info.title,
            version=str(entry.get("version", info.version)),
            owner=str(entry.get("owner", info.owner)),
            review_by=review_by,
        )
    return infos, tuple(problems)


def _read_settings(path: Path) -> dict[str, dict[str, object]]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DocumentLoadError(DOCUMENTS_FILE, f"not valid TOML: {exc}") from exc
    if not all(isinstance(entry, dict) for entry in data.values()):
        raise DocumentLoadError(DOCUMENTS_FILE, 'each document is a table: ["file-name"]')
    return data


def write_infos(path: Path, infos: Iterable[DocumentInfo]) -> None:
    path.write_text(json.dumps([i.to_json() for i in infos], indent=1), encoding="utf-8")


def read_infos(path: Path) -> dict[str, DocumentInfo]:
    """The infos a build kept (none for a build made before builds kept them)."""
    if not path.is_file():
        return {}
    return {i.source: i for i in map(DocumentInfo.from_json, json.loads(path.read_text("utf-8")))}


def due_for_review(infos: Iterable[DocumentInfo], today: date) -> list[DocumentInfo]:
    return [info for info in infos if info.overdue(today)]


def review_notice(infos: Sequence[DocumentInfo]) -> str:
    """What an answer says when a document it cites is past its review date."""
    names = "; ".join(f"{i.title} (review was due by {i.review_text})" for i in infos)
    return f"Due for review: {names}. Check with the document's owner that it is still current."
