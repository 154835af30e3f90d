"""Composing the answer: which clauses it quotes, and what of them it keeps."""

from __future__ import annotations

import numpy as np

from bot.answers.answering import draft
from bot.answers.choice import FEATURES, Chooser, Choosers, candidate_features, is_polar
from bot.answers.gate import Gate
from bot.answers.linear import Logistic
from bot.answers.retrieval import Evidence, Hit, QueryTerm
from bot.answers.text import term_set, terms
from bot.models import Chunk

#: A gate that answers everything it is shown.
ALWAYS = Gate(Logistic(("meaning",), np.zeros(1), np.ones(1), np.zeros(1), 10.0), 0.5)


def chooser(**weights: float) -> Chooser:
    names = tuple(weights)
    n = len(names)
    model = Logistic(names, np.zeros(n), np.ones(n), np.asarray(list(weights.values())), 0.0)
    return Chooser(model)


def clause(section: str, text: str, source: str = "policy.md") -> Chunk:
    return Chunk(f"{source}#{section}", source, "The Policy", section, "Title", text)


def evidence(question: str, *clauses: Chunk) -> Evidence:
    hits = tuple(
        Hit(c, score=1.0 / (10 + rank), dense=0.6 - rank / 100, keyword=1.0 - rank / 10)
        for rank, c in enumerate(clauses)
    )
    return Evidence(
        query=tuple(QueryTerm(t, frozenset({t}), 3.0) for t in dict.fromkeys(terms(question))),
        hits=hits,
        hit_terms=tuple(frozenset(term_set(f"{c.title} {c.text}")) for c in clauses),
        question=question,
    )


def test_the_clause_holding_the_questions_words_leads_even_from_second_place() -> None:
    found = evidence(
        "how long do i have to remove a post",
        clause("3.5", "Posts are public and permanent."),
        clause("16.6", "Failing to remove a post within 24 hours of being asked is a breach."),
    )
    answer = draft(found, gate=ALWAYS, chooser=chooser(coverage=8.0))
    assert answer.text.startswith("Failing to remove a post within 24 hours")
    # Citations are best first, scored by the chooser's probability that they answer.
    assert [c.section for c in answer.citations][:2] == ["16.6", "3.5"]
    scores = [c.score for c in answer.citations]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert [c.section for c in answer.candidates] == ["16.6", "3.5"]


def test_a_second_clause_nearly_as_likely_joins_the_answer_and_a_distant_one_does_not() -> None:
    found = evidence(
        "can i use tiktok at work",
        clause("4.2", "You may use social media in your own time."),
        clause("4.3", "Do not use personal social media during working time."),
        clause("9.9", "Unrelated clause about parking."),
    )
    # Each next clause is 0.01 further in meaning: a mild weight keeps them close...
    both = draft(found, gate=ALWAYS, chooser=chooser(meaning_gap=20.0))
    assert "(The Policy, 4.2)" in both.text and "(The Policy, 4.3)" in both.text
    # ...a steep one makes the second far less likely than the first.
    lead_only = draft(found, gate=ALWAYS, chooser=chooser(meaning_gap=200.0))
    assert "(The Policy, 4.3)" not in lead_only.text
    assert "parking" not in both.text


def test_a_second_clause_that_repeats_or_contradicts_the_first_is_left_out() -> None:
    question = "can i post photos of service users"
    repeat = evidence(
        question,
        clause("7.2", "Do not post photos of service users without written consent."),
        clause("5.3", "Do not post photos of service users without written consent.", "g.html"),
    )
    assert draft(repeat, gate=ALWAYS, chooser=chooser(rank=0.5)).text.count("(The Policy") == 1
    opposite = evidence(
        question,
        clause("7.2", "No. Photos of service users need written consent first."),
        clause("7.3", "Yes, photos of public events may be posted."),
    )
    answer = draft(opposite, gate=ALWAYS, chooser=chooser(rank=0.5))
    assert answer.text.startswith("No.") and "7.3)" not in answer.text


def test_a_long_clause_keeps_its_leading_no_and_its_whole_list_of_steps() -> None:
    steps = " ".join(f"({letter}) step {letter} of the process;" for letter in "abcdefgh")
    long_no = clause(
        "9.2",
        "No. Staff must never reply to abusive posts from their own accounts. "
        "Replies from personal accounts make matters worse and can breach this policy. "
        "Managers are told about every incident the same day. "
        f"If you receive abuse: {steps} and finally (i) tell your manager.",
    )
    answer = draft(
        evidence("should i reply to abusive posts", long_no), gate=ALWAYS, chooser=chooser()
    )
    assert answer.text.startswith("No.")
    listed = evidence("what are the steps if i receive abuse", long_no)
    text = draft(listed, gate=ALWAYS, chooser=chooser()).text
    assert all(f"({letter}) step {letter}" in text for letter in "abcdefgh")
    assert "(i) tell your manager" in text


def test_candidate_signals_mark_yes_no_clauses_for_yes_no_questions() -> None:
    assert is_polar("Can I use Facebook at lunch?") and not is_polar("what is the rule")
    found = evidence(
        "am i allowed to post at lunch",
        clause("2.1", "Yes, in your own time."),
        clause("2.2", "Lunch is an unpaid break."),
    )
    polar = [row[FEATURES.index("polar")] for row in candidate_features(found)]
    assert polar == [1.0, 0.0]


def test_the_shipped_choosers_serve_the_model_they_were_fitted_with() -> None:
    choosers = Choosers.packaged()
    assert choosers.for_embedder(choosers.embedder) is choosers.full
    assert set(choosers.for_embedder("another-model").model.names) <= {
        "keyword",
        "rank",
        "coverage",
        "coverage_gap",
        "polar",
    }
