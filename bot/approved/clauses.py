"""The clauses approved answers rest on: the live build's, a reviewer's ``DOC:SECTION``
resolved against them, how a cited clause changed, and what a form to approve starts from.

Kept apart from :mod:`bot.approved.service` (the stored answers and their life) so that the command
line, the adapters' forms and the matcher read clauses without the storage around them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.approved.views import ApprovalDraft, CitedClause, ClauseError, clause_hash
from bot.errors import EscalationError
from bot.knowledge.changes import KeptClause, difference, read_clauses

if TYPE_CHECKING:  # the case store: the matcher and the command line read clauses without it
    from bot.case_views import CaseView

#: The live build's clauses by (source, section, title), as
#: :func:`bot.knowledge.changes.read_clauses`.
LiveClauses = Mapping[tuple[str, str, str], KeptClause]


@lru_cache(maxsize=4)
def live_clauses(build: Path) -> LiveClauses:
    """A build's clauses by (source, section, title); empty when it kept none."""
    return {clause.key: clause for clause in read_clauses(build) or ()}


def current_clauses(index_dir: Path) -> LiveClauses:
    """The live build's clauses, from the index directory alone (for the command line,
    which needs no search libraries to approve an answer): ``CURRENT`` names the build in
    ``builds/``, as :class:`bot.reload.index.IndexManager` keeps them.

    Raises:
        EscalationError: nothing is indexed yet.
    """
    try:
        build = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        build = ""
    if not build:
        raise EscalationError(
            "The policy documents have not been indexed yet: run `policybot reload`."
        )
    return live_clauses(index_dir / "builds" / build)


def offers_approval(case: CaseView) -> bool:
    """Whether a case's card offers "Save as approved answer": once a reviewer has replied."""
    return bool(latest_reply(case).strip())


def draft_of(case: CaseView) -> ApprovalDraft:
    """What the form to save an approved answer from ``case`` starts with."""
    cited = (
        f"{Path(str(c.get('source', ''))).stem}:{c.get('section', '')}" for c in case.citations
    )
    return ApprovalDraft(case.question, latest_reply(case), tuple(dict.fromkeys(cited)))


def latest_reply(case: CaseView) -> str:
    """The latest reply a reviewer wrote on the case, or ``""``."""
    replies = [event.text for event in case.events if event.action == "replied"]
    return replies[-1] if replies else ""


def resolve_clause(ref: str, live: LiveClauses) -> CitedClause:
    """The live clause ``DOC:SECTION`` names; DOC is a file name, with or without its
    extension, or a part of one that names a single document.

    Raises:
        EscalationError: not DOC:SECTION, or no such clause (the message says which exist).
    """
    doc, _, section = ref.strip().rpartition(":")
    doc, section = doc.strip().lower(), section.strip()
    if not doc or not section:
        raise ClauseError(f"{ref[:80]!r} is not a clause: write DOC:SECTION, e.g. policy-file:4.3")
    sources = sorted({key[0] for key in live})
    named = [s for s in sources if doc in {s.lower(), Path(s).stem.lower()}]
    named = named or [s for s in sources if doc in Path(s).stem.lower()]
    if len(named) != 1:
        listed = ", ".join(Path(s).stem for s in sources)
        raise ClauseError(f"{doc!r} does not name one document: use one of {listed}.")
    found = [clause for key, clause in live.items() if key[:2] == (named[0], section)]
    if not found:
        raise ClauseError(f"{Path(named[0]).stem} has no clause {section}.")
    return cited(found[0])


def cited(clause: KeptClause) -> CitedClause:
    return CitedClause(
        clause.source, clause.section, clause.title, clause.text, clause_hash(clause.text)
    )


def changed(clause: CitedClause, now_is: KeptClause | None) -> tuple[str, str] | None:
    """How a cited clause changed, as (heading, old and new text), or None if it did not."""
    heading = f"{clause.source} {clause.section} ({clause.title})"
    if now_is is None:
        return f"{heading} was removed", f"Was: {clause.text}"
    if clause_hash(now_is.text) == clause.hash:
        return None
    words = difference(clause.text, now_is.text)
    return f"{heading} changed: {words}", f"Was: {clause.text}\nNow: {now_is.text}"
