"""Clause hints: the questions each clause answers, in staff's own words.

Staff rarely use a clause's words ("can i go on insta on my lunch" against "personal purposes
in your own time"). Each document may have a hints file, ``knowledge/hints/<document file name
without its extension>.toml``, written and reviewed by the policy's owner::

    ["4.2"]
    questions = ["can i go on insta on my lunch", "facebook at lunch?"]

    ["1.1 Financial and Value for Money"]   # a number the document uses twice, with its section
    questions = ["does the new policy cost anything?"]

At reload every hint is embedded beside its clause (vectors reused by content hash), and a
clause scores by the best of its own vector and its hints' vectors. A document without a
hints file still works from its own text.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import DocumentLoadError
from bot.knowledge.paths import inside
from bot.models import Chunk

HINTS_DIR = "hints"
#: Longer hints are cut: a hint is a question, not a second copy of the clause.
MAX_HINT_CHARS = 300


@dataclass(frozen=True)
class Hint:
    """A question in staff's words that the clause ``chunk_id`` answers."""

    chunk_id: str
    text: str

    @property
    def id(self) -> str:
        digest = hashlib.sha256(f"{self.chunk_id}\n{self.text}".encode()).hexdigest()
        return f"hint-{digest[:20]}"


@dataclass(frozen=True)
class HintSet:
    """The hints of a knowledge directory, and the entries that name no clause."""

    hints: tuple[Hint, ...] = ()
    problems: tuple[str, ...] = ()


def hint_files(knowledge_dir: Path) -> list[Path]:
    """The hints files of a knowledge directory, sorted by name."""
    folder = knowledge_dir / HINTS_DIR
    if not folder.is_dir():
        return []
    root = knowledge_dir.resolve()
    return sorted(
        p
        for p in folder.glob("*.toml")
        if p.is_file() and not p.name.startswith(".") and inside(p, root)
    )


def read_hints(knowledge_dir: Path, chunks: Sequence[Chunk]) -> HintSet:
    """Attach the hints files' questions to the clauses they name.

    Args:
        knowledge_dir: the knowledge directory (its ``hints/`` folder is read).
        chunks: the chunks of the documents being indexed.

    Returns:
        The hints, each on the first chunk of its clause, and one line for every entry
        that names no clause (a document or clause that is not there, or a number that
        the document uses twice without its section title).

    Raises:
        DocumentLoadError: a hints file is not valid TOML or not of the shape above.
    """
    clauses: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        if chunk.part == 0:
            clauses[Path(chunk.source).stem].append(chunk)
    hints: dict[str, Hint] = {}
    problems: list[str] = []
    for path in hint_files(knowledge_dir):
        entries = _parse(path)
        document = clauses.get(path.stem)
        if document is None:
            problems.append(f"{HINTS_DIR}/{path.name}: no document named {path.stem}")
            continue
        for key, questions in entries.items():
            clause = _clause(document, key)
            if isinstance(clause, str):
                problems.append(f"{HINTS_DIR}/{path.name} [{key}]: {clause}")
                continue
            for question in questions:
                text = " ".join(question.split())[:MAX_HINT_CHARS]
                if text:
                    hint = Hint(clause.id, text)
                    hints.setdefault(hint.id, hint)
    return HintSet(tuple(hints.values()), tuple(problems))


def _parse(path: Path) -> dict[str, list[str]]:
    name = f"{HINTS_DIR}/{path.name}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DocumentLoadError(name, f"not a valid hints file: {exc}") from exc
    entries: dict[str, list[str]] = {}
    for key, table in data.items():
        questions = table.get("questions") if isinstance(table, dict) else None
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            raise DocumentLoadError(
                name, f'[{key}] must hold questions = ["...", ...], a list of strings'
            )
        entries[key.strip()] = questions
    return entries


def _clause(document: Sequence[Chunk], key: str) -> Chunk | str:
    """The clause a key names ("4.2", or "1.1 Financial and Value for Money"), or why not."""
    number, _, title = key.partition(" ")
    found = [c for c in document if c.section == number]
    if title:
        found = [c for c in found if c.title.casefold() == title.strip().casefold()]
    if not found:
        return "no such clause in the document"
    if len(found) > 1:
        sections = " or ".join(f'"{number} {c.title}"' for c in found)
        return f"the document has {len(found)} clauses {number}: name it as {sections}"
    return found[0]
