"""Routing by meaning: a model trained at reload from knowledge/routing.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.answers.routing import NOT_COVERED, Examples, Router, fit
from bot.engine import PolicyBot
from bot.errors import DocumentLoadError
from bot.models import Escalation
from tests.bot.test_index import POLICY, Site, site  # noqa: F401


@pytest.mark.parametrize(
    ("question", "team"),
    [
        ("a reporter from the echo just rang my mobile about the bin strike", "communications"),
        ("someone has made a fake instagram page using our leisure centre logo", "communications"),
        ("my manager keeps making sarcastic digs about me on his facebook", "hr"),
        ("im dyslexic and need software to help me read long emails", "hr"),
    ],
)
def test_situations_told_in_everyday_words_go_to_their_team(
    real_bot: PolicyBot, question: str, team: str
) -> None:
    escalation = real_bot.ask(question).escalation
    assert (escalation.suggested, escalation.team) == (True, team)


@pytest.mark.parametrize(
    "question",
    [
        "Can I use Facebook at lunchtime?",
        "am i allowed to put my job title on linkedin",
        "What should I do if a journalist contacts me?",
        "what's the weather tomorrow",
    ],
)
def test_rule_questions_and_small_talk_are_not_escalated(
    real_bot: PolicyBot, question: str
) -> None:
    assert not real_bot.ask(question).escalation.suggested


def test_without_example_sentences_no_situation_is_recognised(site: Site) -> None:  # noqa: F811
    (site.knowledge / "routing.toml").write_text("[examples]\n", encoding="utf-8")
    site.reload()
    assert not site.bot().ask("a reporter just rang me about a post I made").escalation.suggested


def test_the_examples_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text('[examples]\nhr = "not a list"\n', encoding="utf-8")
    with pytest.raises(DocumentLoadError, match="hr must be a list"):
        Examples.load(path)
    path.write_text('[examples]\nrules = ["a", " a ", "b"]\n', encoding="utf-8")
    assert Examples.load(path).rules == ("a", "b")
    assert not Examples.load(path).trainable
    path.write_text("[examples]\nnot_covered = [1]\n", encoding="utf-8")
    with pytest.raises(DocumentLoadError, match="not_covered must be a list"):
        Examples.load(path)


def test_questions_not_covered_train_the_gate_signals_not_routing() -> None:
    rng = np.random.default_rng(0)
    # Each kind of example gathers round a direction of its own.
    centres = np.eye(8, dtype=np.float32)[[0, 1, 2, 3]].repeat(10, axis=0)
    vectors = centres + 0.3 * rng.normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = ["hr"] * 10 + ["communications"] * 10 + ["rules"] * 10 + [NOT_COVERED] * 10
    model = fit(labels, vectors).with_examples(labels, vectors)
    assert model.examples == 30
    assert model.scoped
    assert model.not_covered is not None and len(model.not_covered) == 10
    inside, outside = model.scope(vectors[35])
    assert outside > inside
    # Left out, an example is not its own neighbour.
    assert model.scope(vectors[35], leave_out=[35])[1] < outside
    unscoped = fit(labels[:30], vectors[:30]).with_examples(labels[:30], vectors[:30])
    assert not unscoped.scoped
    assert unscoped.scope(vectors[35]) == (0.0, 0.0)


def test_a_language_models_judgement_of_the_route_replaces_the_offline_one() -> None:
    situation = Escalation(True, "hr", "This sounds like your own situation ...")
    named = Escalation(False, "communications", "The policy names the Communications team.")
    assert Router.judged(None, situation) == situation  # no judgement: the offline one
    assert Router.judged("none", situation) == Escalation()  # the offer is withdrawn
    assert Router.judged("none", named) == named  # the clause still names its team
    judged = Router.judged("communications", named)
    assert (judged.suggested, judged.team) == (True, "communications")


def test_a_document_added_after_the_questions_not_covered_is_named_at_reload(site: Site) -> None:  # noqa: F811
    assert not [w for w in site.reload().warnings if "written_for" in w]
    shutil.copyfile(site.knowledge / POLICY, site.knowledge / "records-policy.md")
    warnings = [w for w in site.reload().warnings if "written_for" in w]
    assert warnings == [
        "records-policy.md is not in routing.toml's written_for: questions about it are judged "
        "without the list of questions the documents do not answer (review that list, then "
        "add the document)"
    ]


def test_without_questions_not_covered_every_document_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text('written_for = ["policy.md"]\n[examples]\nrules = ["a"]\n', encoding="utf-8")
    assert Examples.load(path).unlisted(["other.md"]) == ()  # no list: nothing judged without it
    path.write_text('[examples]\nnot_covered = ["a"]\n', encoding="utf-8")
    assert Examples.load(path).unlisted(["other.md"]) == ()  # written for every document
    path.write_text(
        'written_for = ["policy.md"]\n[examples]\nnot_covered = ["a"]\n', encoding="utf-8"
    )
    assert Examples.load(path).unlisted(["policy.pdf", "other.md"]) == ("other.md",)
