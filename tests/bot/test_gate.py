"""The learned gate: whether the documents cover a question."""

from __future__ import annotations

from bot.answers.gate import LEXICAL, Gates
from bot.engine import PolicyBot
from bot.knowledge.embeddings import model_name, packaged_files


def test_the_full_gate_serves_only_the_model_it_was_fitted_with() -> None:
    gates = Gates.packaged()
    assert gates.embedder == model_name(*packaged_files())
    assert gates.for_embedder(gates.embedder) is gates.full
    assert gates.for_embedder("openai:text-embedding-3-small").features == LEXICAL
    assert 0.3 <= gates.full.threshold <= 0.9


def test_covered_questions_score_above_the_threshold_and_others_below(
    real_bot: PolicyBot,
) -> None:
    gate = Gates.packaged().full
    retriever = real_bot.retriever()
    covered = gate.probability(retriever.search("how long are quarantined emails kept"))
    uncovered = gate.probability(retriever.search("how many days annual leave can i carry over"))
    assert covered >= gate.threshold > uncovered
