"""The learned gate: whether the documents cover a question."""

from __future__ import annotations

from bot.answers.gate import FEATURES, LEXICAL, UNSCOPED, Gates
from bot.engine import PolicyBot
from bot.knowledge.embeddings import model_name, packaged_files


def test_the_full_gate_serves_only_the_model_it_was_fitted_with() -> None:
    gates = Gates.packaged()
    assert gates.embedder == model_name(*packaged_files())
    assert gates.for_embedder(gates.embedder) is gates.full
    assert gates.for_embedder("openai:text-embedding-3-small").features == LEXICAL
    assert 0.3 <= gates.full.threshold <= 0.9


def test_a_build_without_questions_not_covered_is_gated_without_their_signals() -> None:
    gates = Gates.packaged()
    assert gates.for_build(gates.embedder, scoped=True).features == FEATURES
    assert gates.for_build(gates.embedder, scoped=False).features == UNSCOPED
    assert gates.for_build("openai:text-embedding-3-small", scoped=True).features == LEXICAL


def test_covered_questions_score_above_the_threshold_and_others_below(
    real_bot: PolicyBot,
) -> None:
    gate = Gates.packaged().full
    covered = gate.probability(real_bot.search("how long are quarantined emails kept"))
    uncovered = gate.probability(real_bot.search("how many days annual leave can i carry over"))
    assert covered >= gate.threshold > uncovered


def test_the_search_tells_the_gate_how_close_a_question_is_to_each_kind_of_example(
    real_bot: PolicyBot,
) -> None:
    assert real_bot.router().scoped
    near_a_rule = real_bot.search("can i go on facebook in my lunch break")
    elsewhere = real_bot.search("how much annual leave do i get each year")
    assert near_a_rule.inside > near_a_rule.outside
    assert elsewhere.outside > elsewhere.inside
