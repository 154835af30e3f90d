"""When a person is needed, and which team: HR or Communications, decided by meaning.

A question is offered to a team when it tells of the asker's own situation (abuse, a post
gone viral, a journalist's call, a grievance, an adjustment they need) rather than asking
what the rules are. No hand-written grammar decides it: a logistic regression over the
question's sentence embedding is trained at every reload from example sentences that admins
keep in ``knowledge/routing.toml``::

    [examples]
    hr = ["a colleague keeps posting nasty comments about me", ...]
    communications = ["a reporter from the local paper just rang me", ...]
    rules = ["can I post photos of my team's bake sale?", "what if a journalist calls me?", ...]
    not_covered = ["which password manager do we use, lastpass?", "how much leave do I get", ...]

``hr`` and ``communications`` are situations for each team; ``rules`` are questions about the
rules that must simply be answered, many of them in the first person and about the same
sensitive topics, so that the topic alone never decides. ``not_covered`` are questions the
documents do not answer (a detail they never give, another policy, small talk): they do not
train routing, but tell the answer gate where the documents stop (:meth:`RoutingModel.scope`).
The team is the one both the example sentences and the clauses found for the question point
to (the documents name the HR Advisory team or the Communications team for each matter).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.answers.retrieval import Evidence, Hit
from bot.errors import DocumentLoadError
from bot.knowledge.embeddings import Vectors
from bot.models import TEAM_NAMES, Escalation, Route, Team

ROUTING_FILE = "routing.toml"
#: The fitted model, written into each build at reload.
MODEL_FILE = "routing-model.json"
LABELS = ("hr", "communications", "rules")
#: Questions the documents do not answer: examples for the gate, not for routing.
NOT_COVERED = "not_covered"

#: How much a clause naming a team counts, against the example sentences' log-odds.
CLAUSE_VOTE = 1.2
#: Logistic regression's inverse regularisation strength (scikit-learn's C), and the
#: score of a situation above which a person is offered: both chosen on the tune split of
#: the evaluation questions (see eval/README.md) by leaving out one writer's file at a time:
#: with C 10 rather than 1 and 0.40 rather than 0.55, situations routed 0.882 → 0.947, rule
#: questions offered escalation 0.044 → 0.048.
REGULARISATION = 10.0
#: A situation's score is the regression's log-odds plus this weight times how much
#: closer the question is to its nearest situation examples than to its nearest rule
#: questions (the mean similarity of the NEIGHBOURS closest of each).
NEIGHBOUR_WEIGHT = 10.0
NEIGHBOURS = 3
SITUATION_THRESHOLD = 0.40
#: A question this unlikely to be about the documents at all (gibberish, the weather) is
#: never taken for a situation of the policy's.
OFF_TOPIC = 0.15


@dataclass(frozen=True)
class Examples:
    """The example sentences of ``routing.toml``, by label."""

    hr: tuple[str, ...] = ()
    communications: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    not_covered: tuple[str, ...] = ()
    #: The documents (file names without extension) the questions not covered were written
    #: against; empty: every document.
    written_for: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Examples:
        """Read a routing file; a missing one means no situations are recognised.

        Raises:
            DocumentLoadError: the file is not valid TOML or its lists are not strings.
        """
        if not path.is_file():
            return cls()
        try:
            whole = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DocumentLoadError(path.name, f"not a valid routing file: {exc}") from exc
        data = whole.get("examples", {})
        lists: dict[str, tuple[str, ...]] = {}
        for label in (*LABELS, NOT_COVERED):
            sentences = data.get(label, [])
            if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
                raise DocumentLoadError(path.name, f"[examples] {label} must be a list of strings")
            lists[label] = tuple(dict.fromkeys(" ".join(s.split()) for s in sentences if s.strip()))
        written_for = whole.get("written_for", [])
        if not isinstance(written_for, list) or not all(isinstance(d, str) for d in written_for):
            raise DocumentLoadError(path.name, "written_for must be a list of document names")
        return cls(**lists, written_for=tuple(Path(d).stem for d in written_for))

    @property
    def trainable(self) -> bool:
        """Enough sentences of every kind to learn from."""
        return all(len(getattr(self, label)) >= 5 for label in LABELS)

    def unlisted(self, sources: Iterable[str]) -> tuple[str, ...]:
        """The documents among ``sources`` (file names) that the questions not covered were
        not written against: questions about them are judged without that list."""
        if not self.written_for or not self.not_covered:
            return ()
        return tuple(s for s in sources if Path(s).stem not in self.written_for)

    def labelled(self) -> list[tuple[str, str]]:
        """Every sentence with its label, the questions not covered last."""
        return [(text, label) for label in (*LABELS, NOT_COVERED) for text in getattr(self, label)]


@dataclass(frozen=True)
class RoutingModel:
    """Two logistic regressions over a question's embedding: situation or rule question,
    and (for a situation) Communications rather than HR."""

    situation_weights: Vectors
    situation_bias: float
    team_weights: Vectors
    team_bias: float
    examples: int = 0
    #: The documents the questions not covered were written against (empty: all).
    written_for: tuple[str, ...] = ()
    #: The embedded example sentences: situations (either team), rule questions, and
    #: questions the documents do not answer.
    situations: Vectors | None = None
    rules: Vectors | None = None
    not_covered: Vectors | None = None

    @property
    def scoped(self) -> bool:
        """Whether the examples say where the documents stop (:meth:`scope`)."""
        return self.not_covered is not None and len(self.not_covered) > 0

    def situation(self, vector: Vectors) -> float:
        """How strongly the question reads as the asker's own situation (log-odds scale):
        the regression, plus its nearest examples of each kind."""
        score = float(vector @ self.situation_weights) + self.situation_bias
        if self.situations is not None and self.rules is not None:
            score += NEIGHBOUR_WEIGHT * (
                _nearest(self.situations, vector) - _nearest(self.rules, vector)
            )
        return score

    def scope(self, vector: Vectors, *, leave_out: Sequence[int] = ()) -> tuple[float, float]:
        """How close the question is to questions the documents answer (every situation
        and rule example) and to questions they do not (the mean similarity of the
        NEIGHBOURS nearest of each): a signal for the answer gate.

        Args:
            vector: the question's embedding.
            leave_out: example rows to skip (counted over situations, rules, then the
                questions not covered), so that an example is never its own neighbour
                when the gate is fitted on the questions the examples include.
        """
        covered = [m for m in (self.situations, self.rules) if m is not None]
        if not covered or not self.scoped:
            return 0.0, 0.0
        assert self.not_covered is not None
        similarity = np.concatenate([*covered, self.not_covered]) @ vector
        if leave_out:
            similarity[list(leave_out)] = -1.0
        inside = sum(len(m) for m in covered)
        return _top_mean(similarity[:inside]), _top_mean(similarity[inside:])

    def with_examples(self, labels: Sequence[str], vectors: Vectors) -> RoutingModel:
        """This model with its example sentences' vectors, for the neighbour terms."""
        kinds = np.asarray(labels)
        told = (kinds == "hr") | (kinds == "communications")
        return replace(
            self,
            situations=vectors[told],
            rules=vectors[kinds == "rules"],
            not_covered=vectors[kinds == NOT_COVERED],
        )

    def team_log_odds(self, vector: Vectors) -> float:
        """Log-odds of Communications over HR from the example sentences."""
        return float(vector @ self.team_weights) + self.team_bias

    def to_json(self) -> dict[str, Any]:
        return {
            "situation": {"weights": self.situation_weights.tolist(), "bias": self.situation_bias},
            "team": {"weights": self.team_weights.tolist(), "bias": self.team_bias},
            "examples": self.examples,
            "written_for": list(self.written_for),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoutingModel:
        return cls(
            situation_weights=np.asarray(data["situation"]["weights"], dtype=np.float32),
            situation_bias=float(data["situation"]["bias"]),
            team_weights=np.asarray(data["team"]["weights"], dtype=np.float32),
            team_bias=float(data["team"]["bias"]),
            examples=int(data.get("examples", 0)),
            written_for=tuple(data.get("written_for", ())),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, examples: Path | None = None) -> RoutingModel | None:
        """The model a build was made with (and its embedded examples), or None."""
        if not path.is_file():
            return None
        model = cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        if examples is not None and examples.is_file():
            with np.load(examples) as data:
                model = model.with_examples(data["labels"].tolist(), data["vectors"])
        return model


def fit(labels: Sequence[str], vectors: Vectors, written_for: Sequence[str] = ()) -> RoutingModel:
    """Train the routing model on embedded example sentences (at reload).

    Args:
        labels: ``hr``, ``communications``, ``rules`` or ``not_covered`` for each sentence
            (the last do not train routing).
        vectors: the sentences' embeddings, in the same order.
        written_for: the documents the questions not covered were written against.
    """
    from sklearn.linear_model import LogisticRegression  # only a reload trains

    routed = np.isin(np.asarray(labels), LABELS)
    y, vectors = np.asarray(labels)[routed], vectors[routed]
    situation = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    situation.fit(vectors, y != "rules")
    told = y != "rules"
    team = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    team.fit(vectors[told], y[told] == "communications")
    return RoutingModel(
        situation_weights=situation.coef_[0].astype(np.float32),
        situation_bias=float(situation.intercept_[0]),
        team_weights=team.coef_[0].astype(np.float32),
        team_bias=float(team.intercept_[0]),
        examples=len(y),
        written_for=tuple(written_for),
    )


def _nearest(examples: Vectors, vector: Vectors) -> float:
    """The mean similarity of the NEIGHBOURS examples closest to ``vector``."""
    return _top_mean(examples @ vector)


def _top_mean(similarity: Vectors) -> float:
    """The mean of the NEIGHBOURS highest similarities."""
    k = min(NEIGHBOURS, len(similarity))
    return float(np.partition(similarity, len(similarity) - k)[-k:].mean()) if k else 0.0


_TEAM_MENTIONS: dict[Team, tuple[str, ...]] = {
    "hr": ("HR Advisory", " HR ", "Human Resources", "Occupational Health", "Grievance Procedure"),
    "communications": ("Communications team", "press office", "Head of Communications"),
}


def clause_votes(hits: Sequence[Hit]) -> float:
    """How strongly the best clauses name Communications rather than HR (positive) or
    the reverse (negative): the documents' own "who to contact"."""
    vote = 0.0
    for rank, hit in enumerate(hits[:3]):
        text = f" {hit.chunk.title} {hit.chunk.text} "
        weight = 1.0 / (rank + 1)
        if any(name in text for name in _TEAM_MENTIONS["communications"]):
            vote += weight
        if any(name in text for name in _TEAM_MENTIONS["hr"]):
            vote -= weight
    return vote


@dataclass(frozen=True)
class Router:
    """Decides the escalation offer of a question.

    Args:
        model: the build's routing model (None: no situations are recognised).
        threshold: the probability of a situation above which a person is offered.
    """

    model: RoutingModel | None = None
    threshold: float = SITUATION_THRESHOLD

    @property
    def scoped(self) -> bool:
        """Whether the examples include questions the documents do not answer."""
        return self.model is not None and self.model.scoped

    def scope(self, evidence: Evidence, *, leave_out: Sequence[int] = ()) -> Evidence:
        """``evidence`` with how close its question is to the example questions the
        documents answer and to those they do not (:meth:`RoutingModel.scope`), when the
        examples say where the documents stop and its best clause is in a document they
        were written against; otherwise ``evidence`` as it is."""
        model = self.model
        if model is None or not model.scoped or evidence.vector is None or not evidence.hits:
            return evidence
        if model.written_for and Path(evidence.hits[0].chunk.source).stem not in model.written_for:
            # A document the examples were not written against (one added since): they
            # cannot say where it stops.
            return evidence
        inside, outside = model.scope(evidence.vector, leave_out=leave_out)
        # The clauses' hints are questions the documents answer too.
        inside = max(inside, evidence.asked)
        return replace(evidence, inside=inside, outside=outside, scoped=True)

    def suggest(
        self, vector: Vectors, hits: Sequence[Hit], *, answered: bool, confidence: float
    ) -> Escalation:
        """The escalation offer for a question.

        Args:
            vector: the question's embedding.
            hits: the clauses found for it, best first.
            answered: whether the documents answer it.
            confidence: the gate's probability that the documents cover it.
        """
        votes = clause_votes(hits)
        model = self.model
        on_topic = confidence >= OFF_TOPIC
        if on_topic and model is not None and model.situation(vector) >= self.threshold:
            odds = model.team_log_odds(vector) + CLAUSE_VOTE * votes
            team: Team = "communications" if odds > 0 else "hr"
            return Escalation(suggested=True, team=team, reason=_situation_reason(team))
        if answered and votes:
            named: Team = "communications" if votes > 0 else "hr"
            return Escalation(
                suggested=False,
                team=named,
                reason=f"The policy names the {TEAM_NAMES[named]} for this.",
            )
        return Escalation()

    @staticmethod
    def judged(route: Route | None, offline: Escalation) -> Escalation:
        """The escalation offer once a language model has judged the route.

        The model's judgement stands when it gave one; without it (no model, or its reply
        was unusable) the offline decision does.
        """
        if route is None:
            return offline
        if route == "none":
            return offline if not offline.suggested else Escalation()
        return Escalation(suggested=True, team=route, reason=_situation_reason(route))


def _situation_reason(team: Team) -> str:
    return (
        "This sounds like your own situation, which the policy alone cannot settle: "
        f"the {TEAM_NAMES[team]} can help."
    )
