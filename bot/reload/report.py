"""What a reload did, for the admin who asked: the documents, clauses and settings it changed,
the counts, and anything to look at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from bot.knowledge.changes import ClauseChange

#: Clause changes a reload's summary lists (``policybot changes`` lists them all).
SUMMARY_CHANGES = 10


@dataclass(frozen=True)
class DocumentChange:
    source: str
    status: str  # added | changed | removed | unchanged
    clauses: int


@dataclass(frozen=True)
class ReloadReport:
    """What a reload did, for the admin who asked for it."""

    knowledge_version: str
    previous_version: str | None
    rebuilt: bool
    documents: tuple[DocumentChange, ...]
    skipped: tuple[str, ...] = ()
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    #: Documents read and parsed; the others came parsed from the last reload's cache.
    parsed: int = 0
    elapsed_s: float = 0.0
    settings_changed: tuple[str, ...] = ()
    hints: int = 0
    hints_embedded: int = 0
    hints_generated: int = 0
    warnings: tuple[str, ...] = ()
    #: The clauses added, removed and changed since the previous build.
    changes: tuple[ClauseChange, ...] = ()

    def summary(self) -> str:
        """A few plain lines: the diff, then the counts."""
        lines = []
        for status in ("added", "changed", "removed"):
            names = [d.source for d in self.documents if d.status == status]
            if names:
                lines.append(f"{status.capitalize()}: {', '.join(names)}")
        if self.settings_changed:
            lines.append(f"Changed settings: {', '.join(self.settings_changed)}")
        if not lines:
            lines.append("No changes: the index is up to date.")
        live = [d for d in self.documents if d.status != "removed"]
        clauses = sum(d.clauses for d in live)
        generated = f", {self.hints_generated} written by the model" if self.hints_generated else ""
        hints = (
            f", {self.hints} clause hints ({self.hints_embedded} embedded{generated})"
            if self.hints
            else ""
        )
        work = f" ({self.embedded} embedded, {self.reused} reused){hints}" if self.rebuilt else ""
        lines.append(
            f"{len(live)} documents, {clauses} clauses, {self.chunks} chunks{work} "
            f"in {self.elapsed_s:.2f} s; knowledge version {self.knowledge_version}."
        )
        if self.changes:
            counts = Counter(c.kind for c in self.changes)
            lines.append(
                f"Clauses: {counts['changed']} changed, {counts['added']} added, "
                f"{counts['removed']} removed (`policybot changes` lists them)."
            )
            lines.extend(f"  {c.summary}" for c in self.changes[:SUMMARY_CHANGES])
            if len(self.changes) > SUMMARY_CHANGES:
                lines.append(f"  … and {len(self.changes) - SUMMARY_CHANGES} more")
        lines.extend(f"Warning: {w}" for w in self.warnings)
        if self.skipped:
            skipped = ", ".join(self.skipped)
            lines.append(f"Skipped (not a type read here, or a link out of the folder): {skipped}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["documents"] = [asdict(d) for d in self.documents]
        data["changes"] = [{**asdict(c), "summary": c.summary} for c in self.changes]
        return data
