"""The routing examples hold the tune split's labelled questions, and never a reporting one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _questions(folder: str) -> set[str]:
    found = set()
    for path in (ROOT / "eval" / folder).glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.add(" ".join(json.loads(line)["question"].split()))
    return found


def _examples() -> set[str]:
    with (ROOT / "knowledge" / "routing.toml").open("rb") as file:
        lists = tomllib.load(file)["examples"]
    return {sentence for sentences in lists.values() for sentence in sentences}


def _tune_block() -> set[str]:
    text = (ROOT / "knowledge" / "routing.toml").read_text(encoding="utf-8")
    blocks = re.findall(r"# --- from eval/tune:.*?\n(.*?)  # --- end of eval/tune", text, re.DOTALL)
    return {json.loads(line.strip().rstrip(",")) for block in blocks for line in block.splitlines()}


def test_no_question_of_the_reporting_split_is_taken_from_the_tune_split() -> None:
    block = _tune_block()
    assert len(block) > 200
    assert _questions("test") & block == set()


def test_no_example_of_any_list_is_a_question_of_the_reporting_split() -> None:
    lowered = {question.lower() for question in _questions("test")}
    assert not {sentence.lower() for sentence in _examples()} & lowered


def test_the_tune_block_is_up_to_date_with_the_tune_split() -> None:
    script = ROOT / "scripts" / "routing_examples.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True)
    assert done.returncode == 0, "run scripts/routing_examples.py"
    assert len(_questions("tune") & _examples()) > 200
