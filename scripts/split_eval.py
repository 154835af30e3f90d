"""Split a blind question set once into its tune and test halves.

Usage: python scripts/split_eval.py SET.jsonl NAME

Writes eval/tune/NAME.jsonl and eval/test/NAME.jsonl: every (kind, voice) group is shuffled
with a fixed seed and dealt alternately, so both halves have the same mix. A conversation set
(lines with ``depends``) is grouped by kind and whether the last turn depends on the earlier
ones instead, so both halves have as many follow-ups and topic changes of each kind. Run once per
set, when it arrives; the test half is then only ever measured, never tuned on.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(source: Path, name: str) -> None:
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line]
    groups: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        groups[(str(row["kind"]), _second_key(row))].append(row)
    halves: dict[str, list[dict[str, object]]] = {"tune": [], "test": []}
    deal = 0
    for key in sorted(groups):
        members = groups[key]
        random.Random(f"{name}:{key}").shuffle(members)
        for row in members:
            halves["tune" if deal % 2 == 0 else "test"].append(row)
            deal += 1
    for half, members in halves.items():
        members.sort(key=lambda r: str(r["id"]))
        target = ROOT / "eval" / half / f"{name}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in members))
        print(f"{target.relative_to(ROOT)}: {len(members)} questions")


def _second_key(row: dict[str, object]) -> str:
    """What a kind's questions are grouped by: a conversation's dependence, else the voice."""
    if "depends" in row:
        return f"depends={bool(row['depends'])}"
    return str(row.get("voice", ""))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
