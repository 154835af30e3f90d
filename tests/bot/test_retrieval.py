"""Hybrid retrieval on the shipped documents: ranking, glossary, references, evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answers import retrieval
from bot.answers.retrieval import Retriever
from bot.engine import PolicyBot
from bot.knowledge.glossary import Glossary


def top(retriever: Retriever, question: str, k: int = 3) -> list[tuple[str, str]]:
    return [
        (Path(h.chunk.source).stem, h.chunk.section) for h in retriever.search(question, k).hits
    ]


def test_exact_search_in_memory_ranks_like_chroma(
    real_bot: PolicyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = real_bot.retriever()
    build = real_bot.index.open()
    monkeypatch.setattr(retrieval, "EXACT_SEARCH_LIMIT", 0)  # force Chroma's own query
    via_chroma = Retriever(
        build.chunks, store=build.store, embedder=real_bot.index.embedder, glossary=live.glossary
    )
    for question in ("How long are quarantined emails kept?", "who approves a new account"):
        assert top(via_chroma, question, 5) == top(live, question, 5)
    build.store.close()


def test_the_glossary_turns_everyday_words_into_the_policy_terms(real_bot: PolicyBot) -> None:
    live = real_bot.retriever()
    question = "is 2fa compulsory on our team insta"
    with_glossary = top(live, question)
    bare = Retriever(
        real_bot.index.open().chunks,
        store=real_bot.index.open().store,
        embedder=real_bot.index.embedder,
        glossary=Glossary(),
    )
    assert any("multi-factor" in h.chunk.text.lower() for h in live.search(question, 3).hits)
    assert with_glossary != top(bare, question)


def test_evidence_tells_an_on_topic_question_from_another(real_bot: PolicyBot) -> None:
    live = real_bot.retriever()
    covered = live.search("How long are quarantined emails kept?")
    uncovered = live.search("How many days of annual leave can I carry over?")
    assert covered.topicality > uncovered.topicality + 0.1
    assert covered.hits[0].dense > uncovered.hits[0].dense


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What is Leicester City Council's social media policy?", True),
        ("what does manchester city council say about tiktok", True),
        ("Can the Council read my emails?", False),
        ("Do cllrs from another council follow this?", False),
        ("Can I comment on my parish council's page?", False),
        ("can we delete comments that are just people slagging the council off", False),
    ],
)
def test_other_organisations_are_recognised(
    real_bot: PolicyBot, question: str, named: bool
) -> None:
    assert bool(real_bot.retriever().other_bodies(question)) is named


def test_cross_references_are_resolved_in_the_named_document(real_bot: PolicyBot) -> None:
    live = real_bot.retriever()
    guidance = next(
        c for c in real_bot.index.open().chunks if c.source.endswith(".html") and c.section == "2.2"
    )
    target = live.resolve_reference(guidance, "Clause 4.3 of the policy gives a guide figure")
    assert target is not None
    assert (target.source, target.section) == (
        "electronic-communication-and-social-media-policy.md",
        "4.3",
    )
    same_doc = live.resolve_reference(guidance, "see clause 9.4 above")
    assert same_doc is not None and same_doc.source == guidance.source
    assert live.resolve_reference(guidance, "no reference here") is None


@pytest.mark.parametrize("seed", range(5))
def test_the_partial_sort_orders_candidates_as_a_full_stable_sort(seed: int) -> None:
    """Exact search takes its candidates without sorting every similarity: the same
    positions in the same order, equal values (copied clauses, unknown words) by position."""
    rng = np.random.default_rng(seed)
    for size in (1, 39, 40, 41, 500):
        for values in (
            rng.random(size).astype(np.float32),
            rng.integers(0, 4, size).astype(np.float32),  # many ties, at the cut too
            np.zeros(size, dtype=np.float32),
        ):
            for k in (1, 5, retrieval.CANDIDATES):
                expected = np.argsort(-values, kind="stable")[:k]
                assert np.array_equal(retrieval.top(values, k), expected)
