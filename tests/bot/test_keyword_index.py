"""The keyword index a reload saves in its build, and what opening a build does with it:
a saved index scores exactly as one built in memory (and as bm25s itself), and one that is
missing, damaged or made from other texts is built again without writing anything."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np
import pytest

from bot.answers.keyword import KEYWORD_DIR, TERMS_FILE, KeywordIndex
from bot.answers.retrieval import Evidence, Retriever
from bot.answers.text import terms
from bot.config import Settings
from bot.engine import PolicyBot

TEXTS = [
    "Staff may use Facebook and YouTube at lunchtime on their own devices.",
    "Multi-factor authentication (MFA) is required for every corporate social media account.",
    "Politically restricted posts must not express support for a political party.",
    "Emails held in quarantine are kept for thirty days and then deleted.",
    "Libel: a defamatory statement about a person published on social media.",
    "Staff must not use YouTube for personal videos during working hours.",
]
QUESTIONS = [
    "can I watch youtube at lunch",
    "is MFA needed on our team account",
    "politically restricted posts",
    "how long are quarantined emails kept",
    "libel libel on facebook",  # a term twice counts twice
    "parking permits",  # no term the texts know
]


def bm25s_scores(texts: list[str], question: str) -> np.ndarray:
    """What bm25s's own ``get_scores`` gives (the keyword search's reference)."""
    reference = bm25s.BM25()
    tokenized = [terms(t) or ["∅"] for t in texts]
    reference.index(tokenized, show_progress=False)
    vocabulary = {t for doc in tokenized for t in doc}
    known = [t for t in terms(question) if t in vocabulary]
    if not known:
        return np.zeros(len(texts), dtype=np.float32)
    return np.asarray(reference.get_scores(known), dtype=np.float32)


def seen(evidence: Evidence) -> tuple[object, ...]:
    """What a search found, as the gate and the answer read it."""
    return (evidence.hits, evidence.query, evidence.hit_terms, evidence.keyword_top)


def same_search(a: KeywordIndex, b: KeywordIndex) -> bool:
    return all(
        np.array_equal(a.scores(terms(q)), b.scores(terms(q)))
        and all(a.idf(t) == b.idf(t) and a.knows(t) == b.knows(t) for t in terms(q))
        for q in QUESTIONS
    )


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    directory = tmp_path / "build" / KEYWORD_DIR
    KeywordIndex(TEXTS).save(directory)
    return directory


def test_the_keyword_scores_are_bm25s_own() -> None:
    index = KeywordIndex(TEXTS)
    for question in QUESTIONS:
        assert np.array_equal(index.scores(terms(question)), bm25s_scores(TEXTS, question))
    assert index.scores(terms("libel libel"))[4] > index.scores(terms("libel"))[4] > 0


def test_a_saved_index_is_mapped_and_searches_as_the_one_built(saved: Path) -> None:
    opened = KeywordIndex.open(saved, TEXTS)

    assert isinstance(opened._data, np.memmap)  # read from the files, not built again
    assert same_search(opened, KeywordIndex(TEXTS))
    assert len(opened) == len(TEXTS)


def test_saving_again_replaces_the_index_whole(saved: Path) -> None:
    other = [*TEXTS, "A seventh clause about Instagram."]
    KeywordIndex(other).save(saved)

    assert isinstance(KeywordIndex.open(saved, other)._data, np.memmap)
    assert [p.name for p in saved.parent.iterdir()] == [KEYWORD_DIR]  # no staging left


def _truncate(directory: Path) -> None:
    path = directory / "indices.npy"
    path.write_bytes(path.read_bytes()[:-8])


def _garble_terms(directory: Path) -> None:
    (directory / TERMS_FILE).write_text('{"format": 1, "documents": ', encoding="utf-8")


def _point_outside(directory: Path) -> None:
    indices = np.load(directory / "indices.npy")
    indices[0] = len(TEXTS) + 5  # same size, but past the last text
    np.save(directory / "indices.npy", indices)


def _other_format(directory: Path) -> None:
    meta = json.loads((directory / TERMS_FILE).read_text(encoding="utf-8"))
    (directory / TERMS_FILE).write_text(json.dumps({**meta, "format": 0}), encoding="utf-8")


@pytest.mark.parametrize(
    "damage", [_truncate, _garble_terms, _point_outside, _other_format], ids=lambda f: f.__name__
)
def test_a_damaged_index_is_built_again_with_a_warning_and_left_alone(
    saved: Path, damage: Callable[[Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    damage(saved)
    before = {p.name: p.read_bytes() for p in saved.iterdir()}

    with caplog.at_level(logging.WARNING, logger="bot.answers.keyword"):
        opened = KeywordIndex.open(saved, TEXTS)

    assert not isinstance(opened._data, np.memmap)
    assert same_search(opened, KeywordIndex(TEXTS))
    assert "ignored the keyword index" in caplog.text
    assert {p.name: p.read_bytes() for p in saved.iterdir()} == before  # nothing written


def test_an_index_of_other_texts_is_not_used(saved: Path) -> None:
    edited = [*TEXTS[:-1], TEXTS[-1].replace("YouTube", "TikTok")]

    opened = KeywordIndex.open(saved, edited)

    assert not isinstance(opened._data, np.memmap)
    assert same_search(opened, KeywordIndex(edited))
    assert opened.knows("tiktok")


def test_a_missing_index_is_built_in_memory_and_not_written(tmp_path: Path) -> None:
    missing = tmp_path / "build" / KEYWORD_DIR

    opened = KeywordIndex.open(missing, TEXTS)

    assert same_search(opened, KeywordIndex(TEXTS))
    assert not missing.exists()


def test_a_reload_saves_the_index_its_build_answers_with(real_bot: PolicyBot) -> None:
    build = real_bot.index.open()
    live = real_bot.retriever()
    assert (build.path / KEYWORD_DIR / TERMS_FILE).is_file()
    assert isinstance(live._keyword._data, np.memmap)
    rebuilt = Retriever(
        build.chunks, store=build.store, embedder=real_bot.index.embedder, glossary=live.glossary
    )
    for question in ("Can I use Facebook at lunchtime?", "is 2fa compulsory on our team insta"):
        assert seen(rebuilt.search(question, 5)) == seen(live.search(question, 5))
    build.store.close()


def test_a_build_whose_index_was_lost_answers_the_same(real_bot: PolicyBot, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(real_bot.settings.data_dir / "index", data / "index")
    current = (data / "index" / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.rmtree(data / "index" / "builds" / current / KEYWORD_DIR)
    copy = PolicyBot(Settings(data_dir=data, knowledge_dir=tmp_path))

    question = "Can I use Facebook at lunchtime?"
    assert seen(copy.search(question)) == seen(real_bot.search(question))
    assert not (data / "index" / "builds" / current / KEYWORD_DIR).exists()


def test_opening_a_build_with_its_index_imports_neither_bm25s_nor_scipy(
    real_bot: PolicyBot,
) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.config import Settings\n"
        "from bot.engine import PolicyBot\n"
        f"bot = PolicyBot(Settings(data_dir=Path({str(real_bot.settings.data_dir)!r})))\n"
        "assert bot.search('Can I use Facebook at lunchtime?').hits\n"
        "print(','.join(sorted({n.split('.')[0] for n in sys.modules} & {'bm25s', 'scipy'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""


def test_the_same_texts_save_the_same_files_in_any_process(tmp_path: Path) -> None:
    """bm25s numbers terms in a set's order, which changes with each process's string
    hashing: a build's keyword files are the same whichever process wrote them."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.answers.keyword import KeywordIndex\n"
        f"KeywordIndex({TEXTS!r}).save(Path(sys.argv[1]))\n"
    )
    saved = []
    for seed in ("1", "2"):
        directory = tmp_path / f"seed-{seed}"
        subprocess.run(
            [sys.executable, "-c", script, str(directory)],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        saved.append({p.name: p.read_bytes() for p in directory.iterdir()})

    assert saved[0] == saved[1]
    assert sorted(saved[0]) == sorted([TERMS_FILE, "data.npy", "indices.npy", "indptr.npy"])
