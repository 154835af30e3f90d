"""Measure the similarity threshold from which a question is served an approved answer.

``eval/approved/{tune,test}.jsonl`` hold approved questions, each with paraphrases that should
be answered with it (``match``) and close but different questions that must not
(``near_miss``); see ``eval/README.md``. Each half is matched against its own approved
questions, embedded as the engine embeds them, and, as the matcher does, only an approved
question whose clause is among those retrieval finds for the query is a candidate
(``bot/approved/match.py``). The threshold is chosen on the tuning half
alone: the lowest at which no question there is served a wrong approved answer (precision
1.0), which gives the most paraphrases their answer; precision and recall are then reported on
the test half, which played no part in the choice.

    python scripts/approved_threshold.py [--json] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers.questions import clean  # noqa: E402
from bot.approved.match import FOUND  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine import PolicyBot  # noqa: E402
from bot.knowledge.embeddings import Vectors  # noqa: E402

SETS = ROOT / "eval" / "approved"


@dataclass(frozen=True)
class Query:
    """A question of the set: which approved question it should get (None: none)."""

    text: str
    expected: str | None


@dataclass(frozen=True)
class Approved:
    """An approved question and the clauses (file stem, section) its answer rests on."""

    id: str
    question: str
    clauses: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Scored:
    """A query's closest candidate approved question ("" if none) and their similarity."""

    query: Query
    best: str
    similarity: float


def read(path: Path) -> tuple[list[Approved], list[Query]]:
    """The approved questions and the queries of one half."""
    approved, queries = [], []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        group = json.loads(line)
        clauses = frozenset(tuple(c.rsplit(":", 1)) for c in group["clauses"])
        approved.append(Approved(group["id"], group["approved"], clauses))  # type: ignore[arg-type]
        queries += [Query(text, group["id"]) for text in group["match"]]
        queries += [Query(text, None) for text in group["near_miss"]]
    return approved, queries


def score(bot: PolicyBot, approved: list[Approved], queries: list[Query]) -> list[Scored]:
    """Each query's closest candidate approved question, as the matcher sees them."""
    retriever = bot.retriever()
    bank = {
        a.id: np.asarray(retriever.search(clean(a.question).text, k=1).vector) for a in approved
    }
    scored = []
    for query in queries:
        evidence = retriever.search(clean(query.text).text)
        vector: Vectors | None = evidence.vector
        assert vector is not None
        found = {(Path(h.chunk.source).stem, h.chunk.section) for h in evidence.hits[:FOUND]}
        candidates = [(float(bank[a.id] @ vector), a.id) for a in approved if a.clauses & found]
        similarity, best = max(candidates, default=(0.0, ""))
        scored.append(Scored(query, best, similarity))
    return scored


def measure(scored: list[Scored], threshold: float) -> dict[str, float]:
    """Precision and recall of serving at ``threshold``."""
    served = [s for s in scored if s.best and s.similarity >= threshold]
    right = sum(s.best == s.query.expected for s in served)
    should = sum(s.query.expected is not None for s in scored)
    return {
        "threshold": round(threshold, 3),
        "served": len(served),
        "right": right,
        "wrong": len(served) - right,
        "precision": right / len(served) if served else 1.0,
        "recall": right / should if should else 0.0,
    }


def choose(scored: list[Scored]) -> float:
    """The lowest threshold (in steps of 0.005) at which nothing is served wrongly."""
    for step in range(100, 201):
        threshold = step * 0.005
        if measure(scored, threshold)["wrong"] == 0:
            return round(threshold, 3)
    return 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument("--data", type=Path, help="A data directory to index in (and keep).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data or Path(scratch)
        bot = PolicyBot(Settings(data_dir=data, knowledge_dir=ROOT / "knowledge"))
        bot.reload_documents()  # reuses the clauses an earlier run in --data embedded
        tune = score(bot, *read(SETS / "tune.jsonl"))
        test = score(bot, *read(SETS / "test.jsonl"))
    threshold = choose(tune)
    figures = {
        "threshold": threshold,
        "tune": measure(tune, threshold),
        "test": measure(test, threshold),
        "tune_curve": [measure(tune, t / 100) for t in range(40, 91, 5)],
        "test_curve": [measure(test, t / 100) for t in range(40, 91, 5)],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"threshold chosen on the tuning half: {threshold}")
    for name in ("tune", "test"):
        f = figures[name]
        print(
            f"{name}: precision {f['precision']:.3f} ({f['right']}/{f['served']}), "
            f"recall {f['recall']:.3f}"
        )
    print("closest wrong or missed on the test half:")
    for s in sorted(test, key=lambda s: -s.similarity):
        if (s.best != s.query.expected) and s.similarity >= threshold - 0.05:
            print(f"  {s.similarity:.3f} {s.query.expected} -> {s.best}: {s.query.text}")


if __name__ == "__main__":
    main()
