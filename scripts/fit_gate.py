"""Fit the answer gate on the tune split and write ``bot/data/gate.json``.

Usage: POLICYBOT_DATA_DIR=... python scripts/fit_gate.py [eval/tune]

Every question of the tune split is searched through the live index (reload first);
questions the documents cover (kinds ``answer`` and ``escalate``) are the positives,
``unknown`` ones the negatives. Prints the five-fold cross-validated share answered and
declined, and the reliability of the probabilities, before writing the fitted gate. The
test split is never read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bot.config import Settings
from bot.engine import PolicyBot
from bot.evaluation import read_cases
from bot.gate import GATE_FILE, Gate, features
from bot.questions import clean

ROOT = Path(__file__).resolve().parents[1]
#: Inverse regularisation strength, chosen by cross-validation on the tune split.
C = 1.0


def main(split: Path) -> None:
    if "test" in split.parts:
        raise SystemExit("the gate is fitted on the tune split only")
    bot = PolicyBot(Settings.from_env())
    retriever = bot.retriever()
    rows, labels, kinds = [], [], []
    for case in read_cases(split):
        cleaned = clean(case.question)
        if not cleaned.searchable:
            continue
        rows.append(features(retriever.search(cleaned.text)))
        labels.append(case.kind != "unknown")
        kinds.append(case.kind)
    x, y, kind = np.stack(rows), np.asarray(labels), np.asarray(kinds)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    predicted = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    print(f"{len(y)} questions ({int((~y).sum())} not covered); five-fold cross-validation:")
    # The threshold that best balances answering answerable questions and declining the
    # others (the mean of the two shares), on the cross-validated probabilities.
    best, threshold = -1.0, 0.5
    for candidate in np.arange(0.30, 0.91, 0.05):
        answered = (predicted[kind == "answer"] >= candidate).mean()
        declined = (predicted[kind == "unknown"] < candidate).mean()
        print(f"  threshold {candidate:.2f}: answered {answered:.3f}, declined {declined:.3f}")
        if (answered + declined) / 2 > best + 1e-9:
            best, threshold = (answered + declined) / 2, float(round(candidate, 2))
    print(f"threshold chosen: {threshold:.2f}")
    for low in np.arange(0.0, 1.0, 0.2):
        members = (predicted >= low) & (predicted < low + 0.2 + 1e-9)
        if members.any():
            print(
                f"  {low:.1f}-{low + 0.2:.1f}: {members.sum():>3} questions, predicted "
                f"{predicted[members].mean():.2f}, covered {y[members].mean():.2f}"
            )
    model.fit(x, y)
    scaler, regression = model.steps[0][1], model.steps[1][1]
    gate = Gate(
        mean=scaler.mean_.astype(np.float32),
        scale=scaler.scale_.astype(np.float32),
        weights=regression.coef_[0].astype(np.float32),
        bias=float(regression.intercept_[0]),
        threshold=threshold,
    )
    target = ROOT / "bot" / "data" / GATE_FILE
    gate.save(target)
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "eval" / "tune")
