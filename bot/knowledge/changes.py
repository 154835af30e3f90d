"""What a reload changed, clause by clause: added, removed, and changed with the words that did.

Every build keeps its clauses (``clauses.json``); a reload compares the new clauses with the
previous build's and appends the differences, with the knowledge versions and the time, to
the change log (``changes.jsonl`` in the index directory). ``policybot changes`` reads it
back, for staff briefings ("4.3: 10 → 15 minutes a day").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Literal

from bot.models import Chunk, Document

log = logging.getLogger(__name__)

CLAUSES_FILE = "clauses.json"
LOG_FILE = "changes.jsonl"
#: Word differences shown per changed clause, and words shown of each side of one.
SHOWN_DIFFERENCES = 3
SHOWN_WORDS = 12

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class KeptClause:
    """A clause as a build keeps it for the next reload to compare with."""

    source: str
    document_title: str
    section: str
    title: str
    text: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.source, self.section, self.title


@dataclass(frozen=True)
class ClauseChange:
    """One clause added, removed or changed by a reload."""

    kind: Kind
    source: str
    document_title: str
    section: str
    title: str
    old: str = ""
    new: str = ""

    @property
    def summary(self) -> str:
        """One line: "Policy 4.3 (Personal use): 10 → 15"."""
        where = f"{self.document_title} {self.section} ({self.title})"
        if self.kind == "changed":
            return f"{where}: {difference(self.old, self.new)}"
        return f"{where} {self.kind}"


@dataclass(frozen=True)
class ChangeSet:
    """The clause changes of one reload."""

    version: str
    previous_version: str
    at: str
    changes: tuple[ClauseChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "changes": [asdict(c) for c in self.changes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeSet:
        changes = tuple(ClauseChange(**c) for c in data["changes"])
        return cls(str(data["version"]), str(data["previous_version"]), str(data["at"]), changes)


def kept_clauses(documents: Iterable[Document]) -> list[KeptClause]:
    """The clauses of the documents being indexed, as a build keeps them."""
    return [
        KeptClause(d.source, d.title, c.number, c.title, c.text)
        for d in documents
        for c in d.clauses
    ]


def write_clauses(path: Path, clauses: Sequence[KeptClause]) -> None:
    # vars() rather than asdict(): the fields are strings, and asdict copies each deeply
    # (a second for the clauses of a few hundred documents).
    path.write_text(json.dumps([vars(c) for c in clauses], ensure_ascii=False), "utf-8")


def read_clauses(build: Path) -> list[KeptClause] | None:
    """The clauses a build kept; for a build made before builds kept them, its chunks'
    first parts (whole clauses, but for the rare one split into parts). None: unreadable."""
    try:
        kept = build / CLAUSES_FILE
        if kept.is_file():
            return [KeptClause(**c) for c in json.loads(kept.read_text("utf-8"))]
        raw = json.loads((build / "chunks.json").read_text("utf-8"))
    except (OSError, ValueError, TypeError) as exc:
        log.warning("the previous build's clauses cannot be read (%s): no change list", exc)
        return None
    chunks = [Chunk.from_metadata(c["id"], c["text"], c) for c in raw]
    return [
        KeptClause(c.source, c.document_title, c.section, c.title, c.text)
        for c in chunks
        if c.part == 0
    ]


def compare(old: Sequence[KeptClause], new: Sequence[KeptClause]) -> tuple[ClauseChange, ...]:
    """The clauses added, removed and changed from ``old`` to ``new``, in document order."""
    before = {c.key: c for c in old}
    after = {c.key: c for c in new}
    changes = []
    for clause in new:
        was = before.get(clause.key)
        if was is None:
            changes.append(_change("added", clause, new=clause.text))
        elif " ".join(was.text.split()) != " ".join(clause.text.split()):
            changes.append(_change("changed", clause, old=was.text, new=clause.text))
    changes.extend(_change("removed", c, old=c.text) for c in old if c.key not in after)
    return tuple(changes)


def _change(kind: Kind, clause: KeptClause, *, old: str = "", new: str = "") -> ClauseChange:
    return ClauseChange(
        kind, clause.source, clause.document_title, clause.section, clause.title, old, new
    )


def difference(old: str, new: str) -> str:
    """The words that changed, briefly: "10 → 15; added “in writing”"."""
    a, b = old.split(), new.split()
    parts = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "replace":
            # With a word either side, so that "10 → 15" reads "than 10 minutes → than 15 minutes".
            before, after = a[max(i1 - 1, 0) : i1], a[i2 : i2 + 1]
            parts.append(
                f"{_words([*before, *a[i1:i2], *after])} → {_words([*before, *b[j1:j2], *after])}"
            )
        elif tag == "delete":
            parts.append(f"removed “{_words(a[i1:i2])}”")
        elif tag == "insert":
            parts.append(f"added “{_words(b[j1:j2])}”")
    more = len(parts) - SHOWN_DIFFERENCES
    shown = "; ".join(parts[:SHOWN_DIFFERENCES])
    return shown + (f"; and {more} more" if more > 0 else "") if parts else "spacing only"


def _words(words: Sequence[str]) -> str:
    if len(words) <= SHOWN_WORDS:
        return " ".join(words)
    return " ".join(words[:SHOWN_WORDS]) + " …"


def append_log(index_dir: Path, change_set: ChangeSet) -> None:
    """Add one reload's changes to the change log."""
    with (index_dir / LOG_FILE).open("a", encoding="utf-8") as log_file:
        log_file.write(json.dumps(change_set.to_json(), ensure_ascii=False) + "\n")


def read_log(index_dir: Path, since: str | None = None) -> list[ChangeSet]:
    """The change sets of the log, oldest first: all of them after the knowledge version
    ``since``, or the latest one alone.

    Raises:
        LookupError: ``since`` is not a version in the log.
    """
    path = index_dir / LOG_FILE
    sets = []
    if path.is_file():
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                sets.append(ChangeSet.from_json(json.loads(line)))
    if since is None:
        return sets[-1:]
    versions = [s.version for s in sets] + [s.previous_version for s in sets[:1]]
    if since not in versions:
        raise LookupError(f"knowledge version {since} is not in the change log")
    start = next((i + 1 for i, s in enumerate(sets) if s.version == since), 0)
    return sets[start:]


def markdown(sets: Sequence[ChangeSet]) -> str:
    """The change sets as a short briefing in markdown."""
    if not sets:
        return "No clause has changed since the first index."
    lines = []
    for change_set in sets:
        when = datetime.fromisoformat(change_set.at).strftime("%d %B %Y")
        lines.append(f"## Knowledge version {change_set.version} ({when})")
        for change in change_set.changes:
            lines.append(f"- {change.summary}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
