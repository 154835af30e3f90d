"""Fit the answer gate on the tune split and write ``bot/data/gate.json``.

Usage: POLICYBOT_DATA_DIR=... python scripts/fit_gate.py [eval/tune]

Every question of the tune split is searched twice: through the live index (reload first)
and through an index of the same documents without their clause hints, built here in a
temporary directory, so that the gate also serves documents that have no hints yet (one an
admin has just added). Questions the documents cover (kinds ``answer`` and ``escalate``)
are the positives, ``unknown`` ones the negatives. Prints the five-fold cross-validated
share answered and declined, and the reliability of the probabilities, before writing the
fitted gate. The test split is never read.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bot.config import Settings
from bot.engine import PolicyBot
from bot.evaluation import Case, read_cases
from bot.gate import FEATURES, GATE_FILE, LEXICAL, Gate, Gates, features
from bot.hints import HINTS_DIR
from bot.questions import clean

ROOT = Path(__file__).resolve().parents[1]
#: Inverse regularisation strength, chosen by cross-validation on the tune split.
C = 1.0


def main(split: Path) -> None:
    if "test" in split.parts:
        raise SystemExit("the gate is fitted on the tune split only")
    settings = Settings.from_env()
    bot = PolicyBot(settings)
    cases = read_cases(split)
    rows, labels, kinds = search(bot, cases)
    with tempfile.TemporaryDirectory() as scratch:
        knowledge = Path(scratch) / "knowledge"
        shutil.copytree(settings.knowledge_dir, knowledge, ignore=shutil.ignore_patterns(HINTS_DIR))
        bare = PolicyBot(
            replace(settings, data_dir=Path(scratch) / "data", knowledge_dir=knowledge)
        )
        bare.reload_documents()
        more = search(bare, cases)
    rows, labels, kinds = rows + more[0], labels + more[1], kinds + more[2]
    x, y, kind = np.stack(rows), np.asarray(labels), np.asarray(kinds)
    print(f"{len(y)} questions ({int((~y).sum())} not covered)")
    full = fit(x, y, kind, FEATURES)
    lexical = fit(x, y, kind, LEXICAL)
    target = ROOT / "bot" / "data" / GATE_FILE
    Gates(bot.index.embedder.name, full, lexical).save(target)
    print(f"wrote {target.relative_to(ROOT)}")


def search(bot: PolicyBot, cases: list[Case]) -> tuple[list[np.ndarray], list[bool], list[str]]:
    """The retrieval signals of every searchable question, whether the documents cover it,
    and its kind."""
    retriever = bot.retriever()
    rows, labels, kinds = [], [], []
    for case in cases:
        cleaned = clean(case.question)
        if cleaned.searchable:
            rows.append(features(retriever.search(cleaned.text)))
            labels.append(case.kind != "unknown")
            kinds.append(case.kind)
    return rows, labels, kinds


def fit(x: np.ndarray, y: np.ndarray, kind: np.ndarray, names: tuple[str, ...]) -> Gate:
    """Fit a gate on the signals ``names``; print its cross-validated figures."""
    x = x[:, [FEATURES.index(n) for n in names]]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    predicted = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    print(f"gate on {', '.join(names)}; five-fold cross-validation:")
    # The threshold that best balances answering answerable questions and declining the
    # others (the mean of the two shares), on the cross-validated probabilities.
    best, threshold = -1.0, 0.5
    for candidate in np.arange(0.30, 0.91, 0.05):
        answered = (predicted[kind == "answer"] >= candidate).mean()
        declined = (predicted[kind == "unknown"] < candidate).mean()
        print(f"  threshold {candidate:.2f}: answered {answered:.3f}, declined {declined:.3f}")
        if (answered + declined) / 2 > best + 1e-9:
            best, threshold = (answered + declined) / 2, float(round(candidate, 2))
    print(f"  threshold chosen: {threshold:.2f}; reliability:")
    for low in np.arange(0.0, 1.0, 0.2):
        members = (predicted >= low) & (predicted < low + 0.2 + 1e-9)
        if members.any():
            print(
                f"  {low:.1f}-{low + 0.2:.1f}: {members.sum():>3} questions, predicted "
                f"{predicted[members].mean():.2f}, covered {y[members].mean():.2f}"
            )
    model.fit(x, y)
    scaler, regression = model.steps[0][1], model.steps[1][1]
    return Gate(
        mean=scaler.mean_.astype(np.float32),
        scale=scaler.scale_.astype(np.float32),
        weights=regression.coef_[0].astype(np.float32),
        bias=float(regression.intercept_[0]),
        threshold=threshold,
        features=names,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "eval" / "tune")
