"""Add the tune split's labelled questions to the routing examples (``knowledge/routing.toml``).

The routing regression learns from example sentences. The questions of ``eval/tune/`` carry
labels from their writers (``escalate`` with the team, ``answer``), so they are examples too:
situations for ``hr`` and ``communications``, questions that must simply be answered for
``rules``, and questions the documents do not answer (``unknown``) for ``not_covered``, where
the answer gate reads them. Cross-validated on the tune split (two folds by question, each
fold routed by a model trained with the other fold's questions), adding them moved situations
routed 0.888 → 0.903 and rule questions offered escalation 0.079 → 0.053. A tune question
whose words are also a question of ``eval/test/`` (short ones can coincide) is left out, so
that no reporting question is ever an example; nothing else is read from ``eval/test/``.

Each list of ``routing.toml`` gets a block between markers, replaced on every run:

    python scripts/routing_examples.py [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUTING = ROOT / "knowledge" / "routing.toml"
TUNE = ROOT / "eval" / "tune"
TEST = ROOT / "eval" / "test"
BEGIN = "  # --- from eval/tune: written by scripts/routing_examples.py, do not edit ---"
END = "  # --- end of eval/tune ---"
LISTS = ("hr", "communications", "rules", "not_covered")


def _items(folder: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _text(item: dict[str, object]) -> str:
    return " ".join(str(item["question"]).split())


def tune_examples() -> dict[str, list[str]]:
    """The tune split's questions by routing label, in file order, without repeats and
    without any that is word for word a question of the test split."""
    reported = {_text(item) for item in _items(TEST)}
    found: dict[str, list[str]] = {label: [] for label in LISTS}
    for item in _items(TUNE):
        if item.get("context"):
            continue  # the last turn of a conversation means nothing without its context
        kind, route = item.get("kind", "answer"), item.get("route")
        labels = {"escalate": route, "answer": "rules", "unknown": "not_covered"}
        label = labels.get(str(kind))
        text = _text(item)
        if isinstance(label, str) and text and text not in reported and text not in found[label]:
            found[label].append(text)
    return found


def with_block(toml: str, label: str, sentences: list[str]) -> str:
    """``toml`` with the block of ``label``'s list replaced (or added before its ``]``)."""
    start = re.search(rf"^{label} = \[\n", toml, flags=re.MULTILINE)
    if start is None:
        raise SystemExit(f"{ROUTING.name} has no list {label!r}")
    close = toml.index("\n]", start.end())
    body = toml[start.end() : close + 1]
    body = re.sub(rf"{re.escape(BEGIN)}\n.*?{re.escape(END)}\n", "", body, flags=re.DOTALL)
    written = set(re.findall(r'^  "((?:[^"\\]|\\.)*)",', body, flags=re.MULTILINE))
    new = [s for s in sentences if json.dumps(s, ensure_ascii=False)[1:-1] not in written]
    block = "".join(f"  {json.dumps(s, ensure_ascii=False)},\n" for s in new)
    return toml[: start.end()] + body + f"{BEGIN}\n{block}{END}\n" + toml[close + 1 :]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args()
    before = ROUTING.read_text(encoding="utf-8")
    after = before
    examples = tune_examples()
    for label in LISTS:
        after = with_block(after, label, examples[label])
    if args.check:
        return 0 if after == before else 1
    ROUTING.write_text(after, encoding="utf-8")
    counts = ", ".join(f"{label} {len(examples[label])}" for label in LISTS)
    print(f"{ROUTING.relative_to(ROOT)}: tune examples {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
